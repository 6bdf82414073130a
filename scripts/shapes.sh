#!/usr/bin/env bash
# Input shapes beyond one English book, two builds side by side: medians of
# interleaved runs (2 threads, CPU backend), outputs checked byte for byte.
#
#   scripts/shapes.sh OLD_BINARY [NEW_BINARY]     (after cargo build --release)
#
# Needs ../shared/corpora and python3. Texts in other scripts are the gettext
# catalogues under /usr/share/locale (their translated messages, shuffled),
# and the legacy encodings are those texts transcoded; without catalogues
# those rows are left out. Inputs are built once under $TMPDIR/gpucount-shapes.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
old=$(realpath "${1:?usage: scripts/shapes.sh OLD_BINARY [NEW_BINARY]}")
new=$(realpath "${2:-$here/target/release/gpucount}")
corp=$here/../shared/corpora
work=${TMPDIR:-/tmp}/gpucount-shapes
runs=${RUNS:-7}
mkdir -p "$work"
[ -s "$work/germinal.txt" ] || cp "$corp/germinal-latin1.txt" "$work/germinal.txt"
[ -d "$work/small" ] && [ -d "$work/html" ] && [ -e "$work/.catalogues" ] || python3 - "$corp" "$work" <<'EOF'
import glob, html, os, random, struct, sys
corp, work = sys.argv[1], sys.argv[2]
book = open(f"{corp}/les-miserables.txt", encoding="utf-8").read()
# 20,000 files of about 500 bytes, in 100 directories.
size = len(book) // 20000 * 3
for i in range(20000):
    d = f"{work}/small/d{i % 100:02d}"
    os.makedirs(d, exist_ok=True)
    at = (i * 997) % (len(book) - size)
    open(f"{d}/f{i}.txt", "w", encoding="utf-8").write(book[at:at + size])
# 1,000 HTML pages of about 19 KB.
paras = [p for p in book.split("\n\n") if p.strip()]
per = len(paras) // 200
os.makedirs(f"{work}/html", exist_ok=True)
for k in range(5):
    for j in range(200):
        body = "".join(f'<div class="c{i % 7}"><p id="p{i}">{html.escape(p)}</p></div>\n'
                       for i, p in enumerate(paras[j * per:(j + 1) * per]))
        page = ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>Page</title>'
                f'<script>var x=1;</script></head><body><nav><a href="/">home</a></nav>{body}</body></html>')
        open(f"{work}/html/p{k}_{j}.html", "w", encoding="utf-8").write(page)

def messages(path):
    data = open(path, "rb").read()
    try:
        end = "<" if struct.unpack("<I", data[:4])[0] == 0x950412de else ">"
        n, _, table = struct.unpack(end + "III", data[8:20])
        spans = [struct.unpack(end + "II", data[table + 8 * i:table + 8 * i + 8]) for i in range(1, n)]
        return [data[o:o + l] for l, o in spans]
    except struct.error:
        return []

def text(lang):
    out = []
    for path in glob.glob(f"/usr/share/locale/{lang}/LC_MESSAGES/*.mo"):
        for m in messages(path):
            try:
                out.append(m.decode("utf-8"))
            except UnicodeDecodeError:
                pass
    random.Random(1).shuffle(out)
    return "\n".join(out)

# Russian (20 MB) and six scripts mixed (30 MB), UTF-8.
os.makedirs(f"{work}/legacy", exist_ok=True)
ru = text("ru").encode()
if len(ru) > 100_000:
    open(f"{work}/ru.txt", "wb").write((ru * (1 + (20 << 20) // len(ru)))[:20 << 20])
    with open(f"{work}/mixed.txt", "wb") as f:
        for lang in ["ru", "el", "ja", "zh_CN", "ar", "pl"]:
            t = text(lang).encode()
            if t:
                f.write((t * (1 + (5 << 20) // len(t)))[:5 << 20].decode("utf-8", "ignore").encode())
    # Legacy encodings: each language in its own, 3 KB, 20 KB and 600 KB.
    encodings = {"ru": ["windows-1251", "koi8-r", "iso-8859-5", "cp866"], "uk": ["windows-1251", "koi8-u"],
                 "el": ["windows-1253", "iso-8859-7"], "he": ["windows-1255", "iso-8859-8"], "ar": ["windows-1256"],
                 "ja": ["shift_jis", "euc-jp"], "zh_CN": ["gbk"], "zh_TW": ["big5"], "ko": ["euc-kr"], "th": ["cp874"],
                 "vi": ["windows-1258"], "tr": ["windows-1254", "iso-8859-9"], "pl": ["windows-1250", "iso-8859-2"],
                 "cs": ["windows-1250"], "hu": ["iso-8859-2"], "lt": ["windows-1257"], "de": ["windows-1252"],
                 "fr": ["windows-1252", "iso-8859-15"], "es": ["windows-1252"], "pt": ["windows-1252"]}
    for lang, encs in encodings.items():
        t = text(lang)
        for enc in encs:
            b = t.encode(enc, errors="ignore")[:600_000]
            for n in [3_000, 20_000, 600_000]:
                if len(b) >= n:
                    open(f"{work}/legacy/{lang}.{enc}.{n}.txt", "wb").write(b[:n])
open(f"{work}/.catalogues", "w").close()
EOF

# Median seconds of old and new over $runs interleaved runs of `args`.
row() {
  local name=$1; shift
  [ -e "${@: -1}" ] || { echo "$name: input missing, left out"; return; }
  [ "$("$old" "$@" 2>/dev/null | md5sum)" = "$("$new" "$@" 2>/dev/null | md5sum)" ] || { echo "$name: outputs differ"; exit 1; }
  python3 - "$runs" "$old" "$new" "$name" "$@" <<'EOF'
import statistics, subprocess, sys, time
runs, old, new, name, args = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
t = {old: [], new: []}
for _ in range(runs):
    for b in (old, new):
        s = time.perf_counter()
        subprocess.run([b] + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t[b].append(time.perf_counter() - s)
o, n = statistics.median(t[old]), statistics.median(t[new])
print(f"{name}: {o * 1000:.0f} ms -> {n * 1000:.0f} ms ({o / n:.2f}x)")
EOF
}

row "Germinal (1 MB, windows-1252)" --backend cpu "$work/germinal.txt"
row "legacy encodings (gettext, 20 languages, 3 KB-600 KB files)" --backend cpu "$work/legacy"
row "Russian (20 MB)" --backend cpu "$work/ru.txt"
row "six scripts mixed (30 MB)" --backend cpu "$work/mixed.txt"
row "20,000 files of 500 bytes" --backend cpu "$work/small"
row "1,000 HTML pages (19 MB)" --backend cpu "$work/html"
