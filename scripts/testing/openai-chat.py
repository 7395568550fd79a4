#!/usr/bin/env python3
"""Calls Sluice's POST /v1/chat/completions with the official openai package.

Usage: openai-chat.py BASE_URL API_KEY MODEL
Prints one JSON line: {"ok": true, "id", "object", "content", "model", "seconds"} or
{"ok": false, "status", "error", "seconds"} (seconds: how long the call took); the client's own timeout is 10 s and it does not retry, so a
hang shows as an APITimeoutError rather than a pass.
"""
import json
import sys
import time

import openai

base_url, key, model = sys.argv[1], sys.argv[2], sys.argv[3]
client = openai.OpenAI(base_url=base_url, api_key=key, timeout=10.0, max_retries=0)
started = time.monotonic()


def took():
    return round(time.monotonic() - started, 3)


try:
    completion = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Say hello."}])
    assert isinstance(completion, openai.types.chat.ChatCompletion)
    print(json.dumps({
        "ok": True, "id": completion.id, "object": completion.object, "model": completion.model,
        "content": completion.choices[0].message.content, "finish_reason": completion.choices[0].finish_reason, "seconds": took(),
    }))
except openai.APIStatusError as error:
    print(json.dumps({"ok": False, "status": error.status_code, "error": str(error), "seconds": took()}))
except openai.APITimeoutError as error:
    print(json.dumps({"ok": False, "status": None, "error": "timeout: " + str(error), "seconds": took()}))
except openai.APIConnectionError as error:
    print(json.dumps({"ok": False, "status": None, "error": "connection: " + str(error), "seconds": took()}))
