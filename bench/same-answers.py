#!/usr/bin/env python3
"""Check that our server and PostGraphile return the same data for each pair of query files.

  bench/same-answers.py [--ours URL] [--peer URL] [--vars-dir DIR] [NAME ...]

For every query file NAME (default: every *.graphql in bench/ours that bench/peer also has), it
sends each line of the variables file the query names in its "(vars: X.ndjson)" comment, one
request at a time, to both servers, maps the peer's answer onto our shape and compares:

- names: allCustomers -> customers, accountHoldersBySourceCustomerId { nodes {
  accountBySourceAccountId } } -> accounts, accountHoldersBySourceAccountId { nodes {
  customerBySourceCustomerId } } -> holders, cardsBySource*Id -> cards,
  accountBySourceAccountId -> account, customerBySourceCustomerId -> customer, and a connection
  that is nothing but { nodes } -> its list (on both sides);
- dates: ours "2011-04-28T00:00:00Z", the peer's "2011-04-28";
- cursors (endCursor, startCursor) are opaque to each server and left out;
- the holders of an account: the peer can only order them by sourceCustomerId, ours come in
  sourceCustomerIds order; the peer's list is put primary first (isPrimary) and the number of
  accounts where that changed the order is reported. A holder's position beyond the primary is
  not in the peer's data, so the check also requires at most two holders per account.

Exits 1 on the first difference (printing both sides' paths) and prints per query the lines
checked and the customers, accounts, holders and cards compared.
"""
import argparse
import json
import os
import re
import sys
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})T00:00:00Z$")
RENAME = {
    "allCustomers": "customers",
    "accountBySourceAccountId": "account",
    "customerBySourceCustomerId": "customer",
    "cardsBySourceCustomerId": "cards",
    "cardsBySourceAccountId": "cards",
}
CURSORS = {"endCursor", "startCursor"}


def post(url, query, variables):
    body = json.dumps({"query": query, "variables": variables}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json", "Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        d = json.load(r)
    if "errors" in d:
        raise SystemExit(f"{url}: errors {json.dumps(d['errors'])[:500]}")
    return d["data"]


class Peer:
    """Maps the peer's answer onto ours, counting holder lists it had to reorder."""

    def __init__(self):
        self.reordered = 0

    def holders(self, nodes):
        if len(nodes) > 2:
            raise SystemExit(f"an account with {len(nodes)} holders: their order is not comparable")
        ordered = sorted(nodes, key=lambda n: not n["isPrimary"])  # stable: primary first
        if [n["customer"]["sourceCustomerId"] for n in ordered] != [n["customer"]["sourceCustomerId"] for n in nodes]:
            self.reordered += 1
        return [n["customer"] for n in ordered]

    def norm(self, v):
        if isinstance(v, list):
            return [self.norm(x) for x in v]
        if not isinstance(v, dict):
            return norm_scalar(v)
        out = {}
        for k, x in v.items():
            if k in CURSORS:
                continue
            x = self.norm(x)
            if isinstance(x, dict) and set(x) == {"nodes"}:
                x = x["nodes"]
            if k == "accountHoldersBySourceCustomerId":
                out["accounts"] = [n["account"] for n in x]
            elif k == "accountHoldersBySourceAccountId":
                out["holders"] = self.holders(x)
            else:
                out[RENAME.get(k, k)] = x
        return out


def norm_scalar(v):
    if isinstance(v, str):
        m = DATE.match(v)
        if m:
            return m.group(1)
    return v


def norm_ours(v):
    if isinstance(v, list):
        return [norm_ours(x) for x in v]
    if isinstance(v, dict):
        v = {k: norm_ours(x) for k, x in v.items() if k not in CURSORS}
        return v["nodes"] if set(v) == {"nodes"} else v
    return norm_scalar(v)


def diff(a, b, path="data"):
    """The first path where a and b differ, with both values, or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return f"{path}: keys {sorted(a)} != {sorted(b)}"
        for k in a:
            d = diff(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = diff(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    if a != b:
        return f"{path}: {json.dumps(a)[:200]} != {json.dumps(b)[:200]}"
    return None


def count(v, c):
    """Adds the lengths of the accounts, holders and cards lists anywhere in v to c."""
    if isinstance(v, list):
        for x in v:
            count(x, c)
    elif isinstance(v, dict):
        for k, x in v.items():
            if k in c and isinstance(x, list):
                c[k] += len(x)
            count(x, c)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", default="http://127.0.0.1:18090/query")
    ap.add_argument("--peer", default="http://127.0.0.1:5678/graphql")
    ap.add_argument("--ours-queries", default=os.path.join(HERE, "ours"))
    ap.add_argument("--peer-queries", default=os.path.join(HERE, "peer"))
    ap.add_argument("--vars-dir", default="/tmp/bench/peer/queries/vars")
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    names = a.names or sorted(
        f[: -len(".graphql")] for f in os.listdir(a.ours_queries)
        if f.endswith(".graphql") and os.path.exists(os.path.join(a.peer_queries, f)))
    for name in names:
        oq = open(os.path.join(a.ours_queries, name + ".graphql")).read()
        pq = open(os.path.join(a.peer_queries, name + ".graphql")).read()
        vf = re.search(r"\(vars: ([A-Za-z0-9._-]+)", oq)
        lines = [json.loads(l) for l in open(os.path.join(a.vars_dir, vf.group(1)))] if vf else [{}]
        peer = Peer()
        c = {"accounts": 0, "holders": 0, "cards": 0}
        customers, totals = 0, []
        for vars_ in lines:
            ours = norm_ours(post(a.ours, oq, vars_))
            theirs = peer.norm(post(a.peer, pq, vars_))
            d = diff(ours, theirs)
            if d:
                print(f"{name} {json.dumps(vars_)}: DIFFERENT (ours != peer) at {d}")
                return 1
            page = ours["customers"]
            customers += len(page if isinstance(page, list) else page["nodes"])
            if isinstance(page, dict) and "totalCount" in page:
                totals.append(page["totalCount"])
            count(ours, c)
        print(f"{name}: same data for all {len(lines)} lines of {vf.group(1) if vf else '{}'}: "
              f"{customers} customers, {c['accounts']} accounts, {c['holders']} holders, {c['cards']} cards"
              + (f", totalCount {totals}" if totals else "")
              + f"; holder lists of the peer put primary first: {peer.reordered}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
