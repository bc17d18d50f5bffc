"""Check every internal link of a built HTML site: ``python .ci/check_links.py
docs/_build/html``.

Each ``href`` and ``src`` that is not an absolute URL must name a file of
the build, and its ``#fragment`` an ``id`` (or a ``name``) on that page.
Text fragments (``#:~:text=``) and links to other sites are not checked:
``sphinx-build -b linkcheck`` would need the network. Exits 1 and lists the
broken links when there are any.
"""

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("id", "name") if tag == "a" else ("id",):
            if attrs.get(name):
                self.ids.add(attrs[name])
        for name in ("href", "src"):
            if attrs.get(name) and not (tag == "link" and attrs.get("rel") == "preload"):
                self.links.append(attrs[name])


def _parse(path, cache={}):
    if path not in cache:
        page = _Page()
        page.feed(path.read_text(errors="replace"))
        cache[path] = page
    return cache[path]


def broken_links(root):
    root = Path(root).resolve()
    broken = []
    # _static holds the theme's templates (unrendered Jinja), not pages.
    pages = sorted(path for path in root.rglob("*.html") if "_static" not in path.relative_to(root).parts)
    for page_path in pages:
        for link in _parse(page_path).links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:", "data:")):
                continue
            target = page_path if not parts.path else (page_path.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append((page_path.relative_to(root), link, "no such file"))
                continue
            fragment = unquote(parts.fragment)
            if fragment and not fragment.startswith(":~:") and target.suffix == ".html":
                if fragment not in _parse(target).ids:
                    broken.append((page_path.relative_to(root), link, "no such anchor"))
    return pages, broken


def main(root):
    pages, broken = broken_links(root)
    for page, link, why in broken:
        print(f"{page}: {link} ({why})")
    links = sum(len(_parse(page).links) for page in pages)
    print(f"{len(pages)} pages, {links} links, {len(broken)} broken internal links")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "docs/_build/html"))
