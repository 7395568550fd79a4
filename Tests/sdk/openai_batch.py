"""The official `openai` package runs a batch against Sluice, as a user would.

Usage: openai_batch.py BASE_URL API_KEY LINES [MALFORMED]
Uploads a JSONL file of LINES chat requests (plus MALFORMED broken lines), creates a batch,
polls it until it ends, downloads the output and error files, and prints a JSON summary.
Exits non-zero (with the reason on stderr) when the SDK fails or the batch does not end.
"""
import json
import sys
import tempfile
import time

import openai

base_url, key, lines = sys.argv[1], sys.argv[2], int(sys.argv[3])
malformed = int(sys.argv[4]) if len(sys.argv) > 4 else 0
client = openai.OpenAI(base_url=base_url + "/v1", api_key=key, max_retries=0, _strict_response_validation=True)

with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
    for i in range(lines):
        body = {"model": "demo", "messages": [{"role": "user", "content": f"question {i}"}]}
        f.write(json.dumps({"custom_id": f"req-{i}", "method": "POST", "url": "/v1/chat/completions", "body": body}) + "\n")
    for i in range(malformed):
        f.write("{not json at all\n" if i % 2 == 0 else json.dumps({"custom_id": f"bad-{i}", "method": "POST", "url": "/v1/embeddings", "body": {}}) + "\n")
    path = f.name

uploaded = client.files.create(file=open(path, "rb"), purpose="batch")
client.files.wait_for_processing(uploaded.id, poll_interval=0.2, max_wait_seconds=30)
batch = client.batches.create(
    input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h", metadata={"suite": "sdk"})
deadline = time.time() + 240
while batch.status not in ("completed", "failed", "expired", "cancelled"):
    if time.time() > deadline:
        sys.exit(f"batch {batch.id} still {batch.status} after 240 s")
    time.sleep(0.5)
    batch = client.batches.retrieve(batch.id)

listed = [b.id for b in client.batches.list(limit=100)]
output = client.files.content(batch.output_file_id).text if batch.output_file_id else ""
errors = client.files.content(batch.error_file_id).text if batch.error_file_id else ""
out_lines = [json.loads(l) for l in output.splitlines() if l]
err_lines = [json.loads(l) for l in errors.splitlines() if l]
print(json.dumps({
    "status": batch.status,
    "listed": batch.id in listed,
    "file_status": uploaded.status,
    "request_counts": batch.request_counts.model_dump(),
    # Older SDKs have no `usage` field and keep it as a plain dict.
    "usage_total": (batch.usage["total_tokens"] if isinstance(batch.usage, dict) else batch.usage.total_tokens) if getattr(batch, "usage", None) else None,
    "metadata": batch.metadata,
    "output_custom_ids": sorted(l["custom_id"] for l in out_lines),
    "output_status_codes": sorted({l["response"]["status_code"] for l in out_lines}),
    "output_contents": sorted(l["response"]["body"]["choices"][0]["message"]["content"] for l in out_lines),
    "error_lines": err_lines,
}))
