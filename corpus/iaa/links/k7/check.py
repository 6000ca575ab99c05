"""Check answer files against their worksheets: python3 /tmp/k7/check.py BATCH_DIR"""
import re, sys
from pathlib import Path
d = Path(sys.argv[1]); ok = True
for ws in sorted((d / "worksheets").glob("*.txt")):
    text = ws.read_text(encoding="utf-8")
    figs = set(int(m) for m in re.findall(r"\]\{(\d+) CASUALTY:", text))
    locs = set(int(m) for m in re.findall(r"\]\{(\d+) LOCATION\}", text))
    ans = d / "answers" / ws.name
    if not ans.exists():
        print(f"{ws.name}: no answer file"); ok = False; continue
    seen = set()
    for n, line in enumerate(ans.read_text(encoding="utf-8").splitlines(), 1):
        body = line.split("#")[0].strip()
        if not body: continue
        m = re.match(r"^(\d+)\s+(?:location\s+(\d+)|none)$", body)
        if not m: print(f"{ans.name}:{n}: bad line {line!r}"); ok = False; continue
        h = int(m[1]); seen.add(h)
        if h not in figs: print(f"{ans.name}:{n}: {h} is not a CASUALTY figure"); ok = False
        if m[2] and int(m[2]) not in locs: print(f"{ans.name}:{n}: {m[2]} is not a LOCATION span"); ok = False
    if figs - seen: print(f"{ans.name}: figures without an answer: {sorted(figs - seen)}"); ok = False
print("all answers well-formed" if ok else "fix the lines above")
