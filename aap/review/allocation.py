"""Automatic assignment of reviewers to files: a pure function, no database.

Each file must end up with ``k`` reviewers (those already assigned count). Hard constraints:
a reviewer never gets a file they are in conflict with, never a file they already have, and,
when ``avoid_same_region`` is on, never a file of an association of their own région.

Among the assignments that respect them, we choose one that minimises the sum of the squares
of the reviewers' final loads (existing + new). With a fixed total, the integer load vectors
of smallest sum of squares are exactly those where loads differ by at most one; so whenever
such a balanced assignment exists, this one is balanced, and otherwise it is as even as the
constraints allow. It is computed as a min-cost flow

    source --(need of the file, cost 0)--> file --(1, cost 0)--> reviewer --(1, cost 2·l+1)--> sink

where the reviewer's n-th unit arc costs 2·(load + n) + 1, the increase of load² (a convex cost,
so successive shortest paths give an optimal flow). Inputs are sorted and the shortest paths
are computed with deterministic tie-breaking: the same input always gives the same output.

A file that does not have enough eligible reviewers is left untouched and reported, with the
reason in French. Reviewers have no capacity limit, so every other file is always covered.
"""
from __future__ import annotations

import hashlib
import heapq
import json
from dataclasses import dataclass, field

from ..referentiel import REGION_BY_CODE


@dataclass(frozen=True)
class FileSpec:
    id: int
    region: str | None = None
    assigned: frozenset = field(default_factory=frozenset)  # reviewer ids already assigned


@dataclass(frozen=True)
class ReviewerSpec:
    id: int
    region: str | None = None


@dataclass(frozen=True)
class Proposal:
    pairs: tuple  # ((file_id, reviewer_id), ...) new assignments, sorted
    uncovered: tuple  # ((file_id, reason in French), ...), sorted by file id
    new_counts: dict  # reviewer_id -> number of new files
    loads: dict  # reviewer_id -> existing + new
    signature: str  # hash of the inputs and of the result

    @property
    def spread(self):
        return max(self.loads.values()) - min(self.loads.values()) if self.loads else 0


def region_name(code):
    region = REGION_BY_CODE.get(code)
    return region.name if region else code


def _plural(n, singular, plural):
    return singular if n <= 1 else plural


def _uncovered_reason(need, available, conflicts, same_region, already, region, avoid_same_region):
    where = f" hors de la région {region_name(region)}" if avoid_same_region and region else ""
    text = (f"pas assez d'évaluateurs sans conflit{where} : {available} "
            f"{_plural(available, 'disponible', 'disponibles')} pour {need} à trouver")
    details = []
    if conflicts:
        details.append(f"{conflicts} en conflit d'intérêts")
    if same_region:
        details.append(f"{same_region} de la même région")
    if already:
        details.append(f"{already} déjà {_plural(already, 'affecté', 'affectés')}")
    if details:
        text += " (" + ", ".join(details) + ")"
    return text


class _Graph:
    """A residual graph for min-cost flow, with integer costs."""

    def __init__(self, size):
        self.adjacent = [[] for _ in range(size)]
        self.to, self.capacity, self.cost = [], [], []

    def add(self, u, v, capacity, cost):
        self.adjacent[u].append(len(self.to))
        self.to.append(v), self.capacity.append(capacity), self.cost.append(cost)
        self.adjacent[v].append(len(self.to))
        self.to.append(u), self.capacity.append(0), self.cost.append(-cost)

    def min_cost_flow(self, source, sink, wanted):
        """Successive shortest paths (Dijkstra with potentials; initial costs are >= 0)."""
        size = len(self.adjacent)
        potential = [0] * size
        flow = 0
        infinity = float("inf")
        while flow < wanted:
            dist = [infinity] * size
            previous_edge = [-1] * size
            dist[source] = 0
            heap = [(0, source)]
            done = [False] * size
            while heap:
                d, u = heapq.heappop(heap)
                if done[u]:
                    continue
                done[u] = True
                if u == sink:
                    break
                for e in self.adjacent[u]:
                    if self.capacity[e] <= 0:
                        continue
                    v = self.to[e]
                    nd = d + self.cost[e] + potential[u] - potential[v]
                    if nd < dist[v]:
                        dist[v] = nd
                        previous_edge[v] = e
                        heapq.heappush(heap, (nd, v))
            if dist[sink] == infinity:
                break
            # Nodes not settled before the sink are at least as far: cap them at its distance
            # (keeps every reduced cost non-negative).
            reach = dist[sink]
            for node in range(size):
                potential[node] += dist[node] if done[node] else reach
            # Every path carries one unit (the reviewer arcs have capacity 1).
            v = sink
            while v != source:
                e = previous_edge[v]
                self.capacity[e] -= 1
                self.capacity[e ^ 1] += 1
                v = self.to[e ^ 1]
            flow += 1
        return flow


def propose(files, reviewers, conflicts=frozenset(), k=2, avoid_same_region=True, loads=None):
    """Choose new (file, reviewer) pairs; see the module docstring.

    files: FileSpec; reviewers: ReviewerSpec; conflicts: set of (reviewer_id, file_id);
    loads: reviewer_id -> files they already have (defaults to their count in files' assigned).
    """
    files = sorted(files, key=lambda f: f.id)
    reviewers = sorted(reviewers, key=lambda r: r.id)
    conflicts = frozenset(conflicts)
    if loads is None:
        loads = {}
        for f in files:
            for reviewer_id in f.assigned:
                loads[reviewer_id] = loads.get(reviewer_id, 0) + 1
    existing = {r.id: int(loads.get(r.id, 0)) for r in reviewers}

    needs, eligible, uncovered = {}, {}, []
    for f in files:
        need = k - len(f.assigned)
        if need <= 0:
            continue
        candidates, in_conflict, same_region, already = [], 0, 0, 0
        for r in reviewers:
            if r.id in f.assigned:
                already += 1
            elif (r.id, f.id) in conflicts:
                in_conflict += 1
            elif avoid_same_region and f.region and r.region == f.region:
                same_region += 1
            else:
                candidates.append(r.id)
        if len(candidates) < need:
            if not reviewers:
                reason = "aucun évaluateur n'est disponible"
            else:
                reason = _uncovered_reason(need, len(candidates), in_conflict, same_region, already,
                                           f.region, avoid_same_region)
            uncovered.append((f.id, reason))
        else:
            needs[f.id] = need
            eligible[f.id] = candidates

    pairs = _solve(needs, eligible, reviewers, existing)
    new_counts = {r.id: 0 for r in reviewers}
    for _, reviewer_id in pairs:
        new_counts[reviewer_id] += 1
    final = {r.id: existing[r.id] + new_counts[r.id] for r in reviewers}
    signature = _signature(files, reviewers, conflicts, k, avoid_same_region, existing, pairs)
    return Proposal(pairs=tuple(pairs), uncovered=tuple(uncovered), new_counts=new_counts,
                    loads=final, signature=signature)


def _solve(needs, eligible, reviewers, existing):
    total = sum(needs.values())
    if total == 0:
        return []
    file_ids = sorted(needs)
    reviewer_ids = [r.id for r in reviewers]
    file_node = {fid: 1 + i for i, fid in enumerate(file_ids)}
    reviewer_node = {rid: 1 + len(file_ids) + i for i, rid in enumerate(reviewer_ids)}
    sink = 1 + len(file_ids) + len(reviewer_ids)
    graph = _Graph(sink + 1)
    reach = {rid: 0 for rid in reviewer_ids}
    for fid in file_ids:
        graph.add(0, file_node[fid], needs[fid], 0)
    pair_edges = []
    for fid in file_ids:
        for rid in eligible[fid]:
            pair_edges.append((fid, rid, len(graph.to)))
            graph.add(file_node[fid], reviewer_node[rid], 1, 0)
            reach[rid] += 1
    for rid in reviewer_ids:
        base = existing[rid]
        for unit in range(min(reach[rid], total)):
            graph.add(reviewer_node[rid], sink, 1, 2 * (base + unit) + 1)
    flow = graph.min_cost_flow(0, sink, total)
    assert flow == total, "every coverable file has enough eligible reviewers"
    return sorted((fid, rid) for fid, rid, edge in pair_edges if graph.capacity[edge] == 0)


def _signature(files, reviewers, conflicts, k, avoid_same_region, existing, pairs):
    payload = {
        "files": [[f.id, f.region, sorted(f.assigned)] for f in files],
        "reviewers": [[r.id, r.region] for r in reviewers],
        "conflicts": sorted([list(c) for c in conflicts]),
        "k": k,
        "avoid_same_region": bool(avoid_same_region),
        "loads": sorted(existing.items()),
        "pairs": [list(p) for p in pairs],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
