"""The official `anthropic` package runs a Message Batch against Sluice.

Usage: anthropic_batch.py BASE_URL API_KEY REQUESTS
Creates a message batch of REQUESTS requests, polls it until it has ended, reads its results
through the SDK's `results()` and prints a JSON summary; exits non-zero when anything fails.
"""
import json
import sys
import time

import anthropic

base_url, key, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
client = anthropic.Anthropic(base_url=base_url, api_key=key, max_retries=0)

requests = [
    {"custom_id": f"msg-{i}", "params": {"model": "demo", "max_tokens": 64, "system": "Be brief.",
                                        "messages": [{"role": "user", "content": f"hello {i}"}]}}
    for i in range(count)
]
batch = client.messages.batches.create(requests=requests)
created_status = batch.processing_status
deadline = time.time() + 240
while batch.processing_status != "ended":
    if time.time() > deadline:
        sys.exit(f"message batch {batch.id} still {batch.processing_status} after 240 s")
    time.sleep(0.5)
    batch = client.messages.batches.retrieve(batch.id)

results = list(client.messages.batches.results(batch.id))
listed = [b.id for b in client.messages.batches.list(limit=100)]
deleted = client.messages.batches.delete(batch.id)
print(json.dumps({
    "created_status": created_status,
    "status": batch.processing_status,
    "listed": batch.id in listed,
    "deleted_type": deleted.type,
    "request_counts": batch.request_counts.model_dump(),
    "result_types": sorted({r.result.type for r in results}),
    "custom_ids": sorted(r.custom_id for r in results),
    "texts": sorted(r.result.message.content[0].text for r in results if r.result.type == "succeeded"),
}))
