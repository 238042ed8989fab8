"""One process of the cross-process stampede tests (run by test_stampede.py).

    python stampede_worker.py '<json settings>'

Opens a dogpiled region (``early_recompute`` from the settings, default on), starts ``threads`` callers that wait on a barrier, prints
``ready``, waits for a line on stdin, then every caller asks ``get_or_create(key)``
once.  Each creator call appends one line to ``calls_file`` (O_APPEND: one write,
whole lines from every process).  Prints one JSON line: every caller's result and
the wall-clock time it got it, and when this process's creator stored its value
(once background regenerations are finished).
"""

import json
import os
import sys
import threading
import time

import dogpiled


def main() -> None:
    cfg = json.loads(sys.argv[1])
    region = dogpiled.make_region("user", early_recompute=cfg.get("early_recompute", True)).configure(
        "dogpiled", expiration_time=cfg.get("expiration", 300),
        arguments={"url": cfg["urls"], "lease_ms": cfg.get("lease_ms", 30000),
                   "wait_ms": cfg.get("wait_ms", 5000), "busy_deadline": cfg.get("deadline", 60)})
    region.check_regions()                       # connects once before the start line
    mine = threading.local()

    def creator():
        mine.created = True
        fd = os.open(cfg["calls_file"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(fd, f"{os.getpid()}\n".encode())
        os.close(fd)
        time.sleep(cfg.get("creator_s", 0.2))
        mine.ready_at = time.time()
        return cfg["value"]

    results = []
    barrier = threading.Barrier(cfg["threads"])

    def caller():
        barrier.wait()
        mine.created = False
        value = region.get_or_create(cfg["key"], creator)
        results.append({"value": value, "at": time.time(), "created": mine.created,
                        "ready": getattr(mine, "ready_at", None)})

    threads = [threading.Thread(target=caller) for _ in range(cfg["threads"])]
    print("ready", flush=True)
    sys.stdin.readline()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # a lease handed out with a value is regenerated on a daemon thread: let it finish
    region.wait_for_background(60)
    print(json.dumps({"pid": os.getpid(), "results": results}), flush=True)


if __name__ == "__main__":
    main()
