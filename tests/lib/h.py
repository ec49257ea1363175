#!/usr/bin/env python3
"""Helpers for tests/lib/harness.sh where sh is too clumsy: JSON merging and reading, free ports,
the recorder fixture's output, big bodies, and the load generator of the crash test.

    h.py port [N]                         print N free TCP ports on 127.0.0.1
    h.py config OUT SUBST_JSON PATCH...   base config + RFC 7396 merge patches -> OUT
    h.py patch IN OUT PATCH...            IN plus RFC 7396 merge patches -> OUT
    h.py get FILE PATH                    print a value ("ids.0", "Functions.1.FunctionName",
                                          "#ids" = length); strings raw, the rest as JSON
    h.py received DIR [FUNCTION]          every CloudEvent the recorder fixtures got: "id<TAB>json"
    h.py invocations DIR [FUNCTION]       the recorder's invocations: "requestId<TAB>pid<TAB>n"
    h.py stream-order DIR FUNCTION        for stream events (CloudEvents whose id ends in
                                          ":<partition>:<offset>", or the aws Kafka shape):
                                          "events=N distinct=D duplicates=K reordered=R
                                          partitions=P dup_blocks=B" (R: an offset first seen
                                          after a higher one of its partition; B: partitions
                                          whose duplicates are not one contiguous range)
    h.py bigjson BYTES OUT                a valid JSON object of exactly BYTES bytes
    h.py check-outcome ACKED DIR DLQ      every acknowledged event succeeded or is dead-lettered
    h.py check-delivery ACKED DIR          every acknowledged "id<TAB>token" was received with
                                          that token in its data; prints the counts, exit 1 if not
    h.py load URL N CLIENTS ACKED_OUT DEADLINE_S [POISON_RATE]
                                          post N events from CLIENTS threads in every content
                                          mode, retrying refused/failed posts until DEADLINE_S;
                                          appends "id<TAB>token" per acknowledged event as
                                          it goes
"""
import glob
import http.client
import json
import os
import random
import socket
import sys
import threading
import time
import urllib.parse


def cmd_port(n="1"):
    socks = []
    for _ in range(int(n)):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    print(" ".join(str(s.getsockname()[1]) for s in socks))
    for s in socks:
        s.close()


def merge(base, patch):
    if not isinstance(patch, dict):
        return patch
    out = dict(base) if isinstance(base, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge(out.get(k), v)
    return out


def substitute(text, subst):
    for k, v in subst.items():
        text = text.replace("@" + k + "@", v)
    return text


def cmd_config(out, subst_json, *patches):
    subst = json.loads(subst_json)
    cfg = {
        "listen": "127.0.0.1:" + subst["PORT"],
        "state_dir": subst["TMP"] + "/state",
        "log_level": "info",
    }
    for p in patches:
        cfg = merge(cfg, json.loads(substitute(p, subst)))
    # Every function records into the test's dir and carries the test's tag (orphan checks).
    for fn in (cfg.get("functions") or {}).values():
        env = {"RECORD_DIR": subst["TMP"] + "/rec", "SLUICE_IT_TAG": subst["TAG"]}
        env.update(fn.get("environment") or {})
        fn["environment"] = env
    with open(out, "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")


def cmd_patch(src, out, *patches):
    with open(src) as f:
        cfg = json.load(f)
    for p in patches:
        cfg = merge(cfg, json.loads(p))
    with open(out, "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")


def walk(value, path):
    for part in path.split(".") if path else []:
        if isinstance(value, list):
            value = value[int(part)]
        else:
            value = value[part]
    return value


def cmd_get(file, path):
    with open(file) as f:
        value = json.load(f)
    try:
        if path.startswith("#"):
            print(len(walk(value, path[1:])))
            return
        value = walk(value, path)
    except (KeyError, IndexError, ValueError, TypeError):
        print("<missing %s>" % path)
        sys.exit(1)
    print(value if isinstance(value, str) else json.dumps(value, separators=(",", ":")))


def records(directory, function=None):
    """(pid, record) of every invocation the fixtures recorded, in the order they happened;
    directory may list several, separated by ":" (the record dirs of several nodes).
    A line without its newline is skipped: being written now, or cut off by a killed runtime.
    A complete line that is not JSON (the payload was not) is reported on stderr and skipped."""
    pattern = (function or "*") + "-*.jsonl"
    out = []
    paths = [p for d in directory.split(":") for p in glob.glob(os.path.join(d, pattern))]
    for path in paths:
        pid = path.rsplit("-", 1)[1].split(".")[0]
        with open(path) as f:
            for line in f:
                if not line.endswith("\n"):
                    continue
                try:
                    out.append((pid, json.loads(line)))
                except ValueError as e:
                    sys.stderr.write("h.py: %s: not JSON (%s): %.200s\n" % (path, e, line))
    out.sort(key=lambda r: r[1]["t"])
    return out


def cmd_received(directory, function=None):
    for _, rec in records(directory, function):
        ev = rec["event"]
        for e in ev if isinstance(ev, list) else [ev]:
            eid = e.get("id") if isinstance(e, dict) else None
            print("%s\t%s" % (eid, json.dumps(e, separators=(",", ":"), sort_keys=True)))


def batch_size(payload):
    """Events in one invocation: a CloudEvents batch, an AWS event with "Records" (SQS,
    Kinesis) or "records" (Kafka), else one."""
    if isinstance(payload, list):
        return len(payload)
    if isinstance(payload, dict) and isinstance(payload.get("Records"), list):
        return len(payload["Records"])
    if isinstance(payload, dict) and isinstance(payload.get("records"), dict):
        return sum(len(r) for r in payload["records"].values())
    return 1


def cmd_invocations(directory, function=None):
    for pid, rec in records(directory, function):
        print("%s\t%s\t%d" % (rec["requestId"], pid, batch_size(rec["event"])))


def stream_positions(payload):
    """(partition, offset) of each record of one invocation, in order."""
    if isinstance(payload, dict) and isinstance(payload.get("records"), dict):
        for part, recs in payload["records"].items():
            for r in recs:
                yield part, int(r["offset"])
        return
    for e in payload if isinstance(payload, list) else [payload]:
        _, part, offset = e["id"].rsplit(":", 2)
        yield part, int(offset)


def cmd_stream_order(directory, function):
    seen, highest, dups = set(), {}, {}
    events = reordered = 0
    for _, rec in records(directory, function):
        for part, offset in stream_positions(rec["event"]):
            events += 1
            if (part, offset) in seen:
                dups.setdefault(part, set()).add(offset)
            elif offset < highest.get(part, -1):
                reordered += 1
            seen.add((part, offset))
            highest[part] = max(highest.get(part, -1), offset)
    blocks = sum(1 for offs in dups.values() if max(offs) - min(offs) + 1 != len(offs))
    print("events=%d distinct=%d duplicates=%d reordered=%d partitions=%d dup_blocks=%d"
          % (events, len(seen), events - len(seen), reordered, len(highest), blocks))


def cmd_check_delivery(acked_file, directory):
    acked = {}
    with open(acked_file) as f:
        for line in f:
            eid, token = line.rstrip("\n").split("\t")
            acked[eid] = token
    got = {}
    deliveries = 0
    for _, rec in records(directory):
        ev = rec["event"]
        for e in ev if isinstance(ev, list) else [ev]:
            deliveries += 1
            data = e.get("data")
            got.setdefault(e.get("id"), set()).add(data.get("token") if isinstance(data, dict) else None)
    missing = [i for i in acked if i not in got]
    wrong = [i for i in acked if i in got and acked[i] not in got[i]]
    print("acked=%d delivered_distinct=%d deliveries=%d missing=%d wrong_data=%d%s%s"
          % (len(acked), len(got), deliveries, len(missing), len(wrong),
             (" first_missing=" + ",".join(missing[:5])) if missing else "",
             (" first_wrong=" + ",".join(wrong[:5])) if wrong else ""))
    sys.exit(1 if missing or wrong else 0)


def cmd_check_outcome(acked_file, directory, dead_letter_file):
    """Every acknowledged event ended well: it was in an invocation that succeeded (no poison in
    its batch), or it is in a failure record of the dead-letter file; and no poison succeeded."""
    acked = {}
    with open(acked_file) as f:
        for line in f:
            eid, token = line.rstrip("\n").split("\t")
            acked[eid] = token
    succeeded = set()
    for _, rec in records(directory):
        events = rec["event"] if isinstance(rec["event"], list) else [rec["event"]]
        if "__fail__" not in json.dumps(events):
            succeeded.update(e.get("id") for e in events)
    dead = set()
    if os.path.exists(dead_letter_file):
        with open(dead_letter_file) as f:
            for line in f:
                if line.endswith("\n"):
                    dead.update(e.get("id") for e in json.loads(line).get("events", []))
    poison = {i for i, t in acked.items() if t.endswith("__fail__")}
    missing = [i for i in acked if i not in succeeded and i not in dead]
    print("acked=%d poison=%d succeeded=%d dead_lettered=%d poison_dead_lettered=%d missing=%d "
          "poison_succeeded=%d%s" % (len(acked), len(poison), len(succeeded & set(acked)),
                                     len(dead & set(acked)), len(poison & dead), len(missing),
                                     len(poison & succeeded),
                                     (" first_missing=" + ",".join(missing[:5])) if missing else ""))
    sys.exit(1 if missing or poison & succeeded or poison - dead else 0)


def cmd_bigjson(size, out):
    size = int(size)
    head, tail = '{"pad":"', '"}'
    with open(out, "w") as f:
        f.write(head + "x" * (size - len(head) - len(tail)) + tail)


# ---- load generator (crash test) -----------------------------------------------------------------

class Client:
    """One keep-alive connection; reconnects after errors."""

    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port, self.path = u.hostname, u.port, u.path
        self.conn = None

    def post(self, body, headers):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            self.conn.request("POST", self.path, body=body, headers=headers)
            resp = self.conn.getresponse()
            return resp.status, resp.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            return None, b""


def make_request(client_no, seq, count, rnd, poison_rate=0.0):
    """A request carrying `count` events; returns (body, headers, tokens). A token ending in
    "__fail__" (probability poison_rate) makes the recorder fail the batch that carries it."""
    tokens = ["c%d-%d%s" % (client_no, seq + i, "__fail__" if rnd.random() < poison_rate else "")
              for i in range(count)]
    if count > 1:
        events = [{"specversion": "1.0", "id": "id-" + t, "source": "/load", "type": "load.event",
                   "data": {"token": t}} for t in tokens]
        return json.dumps(events), {"Content-Type": "application/cloudevents-batch+json"}, tokens
    t = tokens[0]
    mode = rnd.choice(["structured", "binary", "binary-noid", "plain"])
    if mode == "structured":
        ev = {"specversion": "1.0", "id": "id-" + t, "source": "/load", "type": "load.event",
              "data": {"token": t}}
        return json.dumps(ev), {"Content-Type": "application/cloudevents+json"}, tokens
    if mode == "plain":
        return json.dumps({"token": t}), {"Content-Type": "application/json"}, tokens
    headers = {"Content-Type": "application/json", "ce-specversion": "1.0",
               "ce-type": "load.event", "ce-source": "/load"}
    if mode == "binary":
        headers["ce-id"] = "id-" + t
    return json.dumps({"token": t}), headers, tokens


def cmd_load(url, total, clients, acked_out, deadline_s, poison_rate="0"):
    total, clients, poison_rate = int(total), int(clients), float(poison_rate)
    deadline = time.monotonic() + float(deadline_s)
    lock = threading.Lock()
    acked = []
    stats = {"requests": 0, "errors": 0, "non202": {}}
    out = open(acked_out, "a")
    per = [total // clients + (1 if i < total % clients else 0) for i in range(clients)]

    def run(no):
        rnd = random.Random(no * 7919 + int(time.time()))
        c = Client(url)
        done = 0
        while done < per[no]:
            count = min(per[no] - done, rnd.choice([1, 1, 1, rnd.randint(2, 100)]))
            body, headers, tokens = make_request(no, done, count, rnd, poison_rate)
            while True:
                if time.monotonic() > deadline:
                    return
                status, payload = c.post(body, headers)
                with lock:
                    stats["requests"] += 1
                if status == 202:
                    ids = json.loads(payload)["ids"]
                    assert len(ids) == len(tokens), (ids, tokens)
                    with lock:
                        acked.extend(zip(ids, tokens))
                        out.write("".join("%s\t%s\n" % p for p in zip(ids, tokens)))
                        out.flush()
                    break
                with lock:
                    if status is None:
                        stats["errors"] += 1
                    else:
                        stats["non202"][status] = stats["non202"].get(status, 0) + 1
                time.sleep(0.05 + rnd.random() * 0.1)
            done += count

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("load: %d acknowledged of %d, %d requests, %d connection errors, other answers %s"
          % (len(acked), total, stats["requests"], stats["errors"], stats["non202"]))


def main():
    cmds = {"port": cmd_port, "config": cmd_config, "patch": cmd_patch, "get": cmd_get, "received": cmd_received,
            "invocations": cmd_invocations, "bigjson": cmd_bigjson, "stream-order": cmd_stream_order,
            "check-delivery": cmd_check_delivery, "check-outcome": cmd_check_outcome,
            "load": cmd_load}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    main()
