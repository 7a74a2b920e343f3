#!/usr/bin/env python3
"""Broken internal links/anchors on every built page, and redline counts vs
an independent plain-text word diff. usage: measure-site.py PUBLIC BASE_PATH (used by trial-history.sh)"""
import sys, os, re, html, difflib, collections
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit, unquote

pub, base = sys.argv[1], sys.argv[2].rstrip('/')

class P(HTMLParser):
    def __init__(s):
        super().__init__(); s.ids=set(); s.links=[]
    def handle_starttag(s, tag, attrs):
        for k, v in attrs:
            if k == 'id' and v: s.ids.add(v)
            if k in ('href', 'src') and v is not None: s.links.append(v)

pages = {}
for d, _, fs in os.walk(pub):
    for f in fs:
        if f.endswith('.html'):
            path = os.path.join(d, f)
            p = P(); p.feed(open(path, encoding='utf-8').read())
            pages[os.path.relpath(path, pub)] = p
allfiles = set()
for d, _, fs in os.walk(pub):
    for f in fs: allfiles.add(os.path.relpath(os.path.join(d, f), pub))

broken = collections.Counter(); n_links = 0; bad_pages = set()
for rel, p in pages.items():
    url = base + '/' + rel.replace('index.html', '')
    for href in p.links:
        u = urlsplit(urljoin('https://example.com' + url, href))
        if u.netloc != 'example.com' or not u.path.startswith(base + '/') and u.path != base:
            continue
        n_links += 1
        target = unquote(u.path[len(base):]).lstrip('/')
        if target == '' or target.endswith('/'): target += 'index.html'
        if target not in allfiles:
            kind = 'redline' if '/changes/' in rel else 'page'
            broken['no page', kind] += 1; bad_pages.add(rel)
            if '-v' in sys.argv or broken['no page', kind] <= 3: print('   no page:', rel, href)
            continue
        if u.fragment and target.endswith('.html') and u.fragment not in pages[target].ids:
            kind = 'redline' if '/changes/' in rel else 'page'
            broken['anchor', kind] += 1; bad_pages.add(rel)
            if '-v' in sys.argv or broken['anchor', kind] <= 3: print('   no anchor:', rel, href)
print(f"pages {len(pages)}, internal links {n_links}, broken {sum(broken.values())} on {len(bad_pages)} pages: {dict(broken)}")

# Redline counts against an independent word diff of the version pages' text.
def words(rel):
    h = open(os.path.join(pub, rel), encoding='utf-8').read()
    m = re.search(r'<article class=policy.*?</article>', h, re.S)
    h = m.group(0) if m else h
    h = re.sub(r'<nav.*?</nav>', ' ', h, flags=re.S)
    h = re.sub(r'<header.*?</header>', ' ', h, flags=re.S)
    h = re.sub(r'<details.*?</details>', ' ', h, flags=re.S)
    t = html.unescape(re.sub(r'<[^>]+>', ' ', h))
    return [w for w in (re.sub(r"[^\w@./-]", '', w.lower()).strip('.') for w in t.split()) if w]
rows = []; unread = []
for lang in sorted(os.listdir(pub)):
    for policy in sorted(os.listdir(os.path.join(pub, lang))) if os.path.isdir(os.path.join(pub, lang)) and len(lang) <= 5 else []:
        ch = os.path.join(pub, lang, policy, 'changes')
        if not os.path.isdir(ch): continue
        dates = sorted(d for d in os.listdir(os.path.join(pub, lang, policy)) if re.match(r'\d{4}-', d))
        for a, b in zip(dates, dates[1:]):
            f = os.path.join(pub, lang, policy, 'changes', b, 'index.html')
            if not os.path.exists(f): continue
            c = open(f, encoding='utf-8').read()
            m = re.search(r'class="?counts"?>\+(\d+)[^,]*, −(\d+)[^;<]*(;[^<]*)?', c)
            pa, pb = f"{lang}/{policy}/{a}/index.html", f"{lang}/{policy}/{b}/index.html"
            if not m or not all(os.path.exists(os.path.join(pub, p)) for p in (pa, pb)):
                # A redline whose counts this script cannot read (another
                # language's wording, a changed template): listed, not fatal.
                unread.append(f)
                continue
            added, removed = int(m.group(1)), int(m.group(2))
            moved = int((re.search(r'words moved: (\d+)', m.group(3) or '') or [0,0])[1])
            wa, wb = words(pa), words(pb)
            sm = difflib.SequenceMatcher(None, wa, wb, autojunk=False)
            ia = ir = 0
            for op, i1, i2, j1, j2 in sm.get_opcodes():
                if op in ('delete', 'replace'): ir += i2 - i1
                if op in ('insert', 'replace'): ia += j2 - j1
            rows.append((lang, policy, b, added, removed, moved, ia, ir, (m.group(3) or '').strip('; ')))
if unread:
    print(f"redlines whose counts could not be read: {len(unread)}")
    for f in unread[:10]: print("  unread:", os.path.relpath(f, pub))
noise = [r for r in rows if (r[3] + r[4]) > 0 and r[6] + r[7] == 0]
print(f"redlines {len(rows)}; with word counts where the plain words did not change at all: {len(noise)}")
for r in noise: print("  noise?", r)
excess = [r for r in rows if r[3] + r[4] > r[6] + r[7] + 2 * r[5] + 4]
print(f"redlines counting more words than a plain word diff (+moves): {len(excess)}")
for r in excess[:10]: print("  more:", r)
if '-v' in sys.argv:
    for r in rows: print(r)
