"""Turn ``benchmarks/README.md`` and ``benchmarks/results/`` into MyST Markdown.

The benchmarks page, ``benchmarks.rst``, includes ``generated/benchmarks.md``,
which this module writes at the start of every docs build and MyST parses as
Markdown: the README, whose tables, headings and links render as they do on
the repository's web page, then a "Result files" section with one section per
result in ``benchmarks/results/``: its Markdown summary, then its PNG or SVG
figures, then its per-run CSV and JSON files as downloads (with no results it
says so). One file, parsed as one document, so that a link from the README to
a result's section resolves with any docutils version.

It is made from the committed files at every build, so the page never shows
anything else. Three things are adjusted on the way:

- Headings. A file's opening heading is its title: the page has its own title
  for the README, and a result's title heads its section. The other headings
  move to the page's levels, and a skipped level (a summary that goes from
  ``#`` to ``###``) closes up, so that Sphinx sees a consistent outline.
- Relative links and images, written relative to the Markdown file, point at
  what the page can show: a result's summary becomes a link to its section
  (and the README a link to its start), a documentation source a link
  to that page, and any other file of the
  repository is copied next to the generated file (an image shows, any other
  file is a download). A link to a folder, a missing file or a file outside
  the repository keeps its text and loses the link, with a message in the
  build log; an image there shows its alternative text.
- Absolute URLs and in-page anchors stay as they are, but in a heading only
  a URL stays a link (Sphinx's table of contents takes no other).
"""

import re
import shutil
from urllib.parse import unquote

KINDS = {
    ".md": "text",
    ".png": "figure",
    ".svg": "figure",
    ".csv": "download",
    ".json": "download",
}

#: The docs' source suffixes: a link to such a file in the docs is a page.
SOURCE_SUFFIXES = (".rst", ".md")

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_ATX = re.compile(r"^( {0,3})(#{1,6})(?=[ \t]|$)")
_ATX_CLOSE = re.compile(r"(?:^|[ \t]+)#+[ \t]*$")


def _log(message):
    try:
        from sphinx.util import logging
    except ImportError:  # pragma: no cover - outside Sphinx
        print(message)
    else:
        logging.getLogger(__name__).info(message)


def _title(stem):
    return stem.replace("_", " ").replace("-", " ").capitalize()


def _label(stem):
    """Return the reference label of a result's section."""
    return "benchmark-result-" + re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")


def _parser():
    """Return a markdown-it parser that tokenizes as MyST's default does."""
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    return create_md_parser(MdParserConfig(), RendererHTML)


class _Targets:
    """Map a Markdown file's relative link targets to what the docs can show.

    Parameters
    ----------
    root : pathlib.Path
        The repository; files outside it are not shown.
    docs : pathlib.Path
        The documentation's source folder.
    files_dir : pathlib.Path
        Where linked files of the repository are copied, under ``docs``.
    sections : dict of pathlib.Path to str
        The result summaries that have a section on the page, and its label.
    copied : dict of pathlib.Path to str, optional
        Files already copied into the docs, and their copies' paths from
        the docs folder.
    """

    def __init__(self, root, docs, files_dir, sections, copied=None):
        self.root = root.resolve()
        self.docs = docs.resolve()
        self.files_dir = files_dir
        self.sections = {p.resolve(): label for p, label in sections.items()}
        # Repository file -> its copy's path from the docs folder.
        self.copied = {p.resolve(): c for p, c in (copied or {}).items()}
        self.unresolved = set()

    def _copy(self, path):
        """Copy a repository file under ``files_dir``; return its docs path."""
        if path not in self.copied:
            relative = path.relative_to(self.root)
            target = self.files_dir / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            self.copied[path] = "/" + target.relative_to(self.docs).as_posix()
        return self.copied[path]

    def resolve(self, destination, base_dir, image):
        """Return the new destination, or None to drop the link.

        ``destination`` is as written in the Markdown file, relative to
        ``base_dir``. A destination with a URL scheme, or that is only an
        anchor, is returned unchanged.
        """
        if not destination or destination.startswith("#"):
            return destination
        if _SCHEME.match(destination):
            return destination
        path_part, sep, fragment = destination.partition("#")
        path_part = path_part.split("?", 1)[0]
        if path_part.startswith("/"):
            # GitHub reads a leading slash from the repository's root.
            path = self.root / unquote(path_part).lstrip("/")
        else:
            path = base_dir / unquote(path_part)
        path = path.resolve()
        if not path.is_file() or not path.is_relative_to(self.root):
            return None
        if not image and path in self.sections:
            return "#" + self.sections[path]
        if path.is_relative_to(self.docs):
            relative = "/" + path.relative_to(self.docs).as_posix()
            if not image and path.suffix in SOURCE_SUFFIXES:
                # A page of the docs: MyST links to it (and to its anchor).
                return relative + sep + fragment
            return relative if image else "path:" + relative
        copied = self._copy(path)
        # ``path:`` makes MyST link a download whatever the file's suffix.
        return copied if image else "path:" + copied


def _inline_tokens(tokens):
    """Yield ``(token, in_heading)`` for every inline token with a position."""
    for i, token in enumerate(tokens):
        if token.type == "inline" and token.map is not None:
            yield token, i > 0 and tokens[i - 1].type == "heading_open"


def _destinations(children):
    """Yield ``(destination, is_image)`` for every link and image, nested too."""
    for child in children or []:
        if child.type == "link_open":
            yield child.attrGet("href"), False
        elif child.type == "image":
            yield child.attrGet("src"), True
        yield from _destinations(child.children)


def _opening_bracket(text, close):
    """Return the index of the ``[`` that the ``]`` at ``close`` closes."""
    depth = 0
    for i in range(close, -1, -1):
        if i > 0 and text[i - 1] == "\\":
            continue
        if text[i] == "]":
            depth += 1
        elif text[i] == "[":
            depth -= 1
            if depth == 0:
                return i
    return None


def _rewrite_inline(text, raw, new, image):
    """Rewrite every inline link (or image) to ``raw`` in ``text``.

    ``new`` is the new destination, or None to keep the link's text (the
    image's alternative text) without the link.
    """
    pattern = re.compile(
        r"\]\(([ \t\n]*)(<" + re.escape(raw) + r">|" + re.escape(raw) + r")"
        r"(?=[ \t\n)])"
    )
    if new is not None:
        return pattern.sub(
            lambda m: "](" + m.group(1) + ("<" + new + ">" if " " in new else new),
            text,
        )
    end_of_link = re.compile(r"""\s*(?:"[^"]*"|'[^']*'|\([^)]*\))?\s*\)""")
    out, pos = [], 0
    for m in pattern.finditer(text):
        if m.start() < pos:
            continue
        start = _opening_bracket(text, m.start())
        tail = end_of_link.match(text, m.end())
        if start is None or tail is None:
            continue
        bang = image and start > 0 and text[start - 1] == "!"
        out.append(text[pos : start - 1 if bang else start])
        out.append(text[start + 1 : m.start()])
        pos = tail.end()
    out.append(text[pos:])
    return "".join(out)


def _convert(text, source, targets, first_level, md):
    """Return ``(title, body)`` of a Markdown file, fitted to the page.

    ``title`` is the inline text of the heading the file opens with, or None;
    ``body`` is the rest, with its headings from level ``first_level`` down,
    without skipped levels, and its relative links and images resolved by
    ``targets``.
    """
    env = {}
    tokens = md.parse(text, env)
    lines = text.splitlines()
    # Edits by line: index -> replacement lines (None deletes the line).
    edits = {}
    title = None

    def note_unresolved(destination, image):
        kind = "image" if image else "link"
        if (source, destination, kind) in targets.unresolved:
            return
        targets.unresolved.add((source, destination, kind))
        _log(
            f"benchmarks page: the {kind} to {destination!r} in {source.name} "
            "points to nothing the docs can show; its text is shown instead."
        )

    # Links and images, within each block's lines.
    resolved = {}
    for token, in_heading in _inline_tokens(tokens):
        start, end = token.map
        block = "\n".join(lines[start:end])
        changed = block
        for destination, image in _destinations(token.children):
            raw = md.normalizeLinkText(destination or "")
            if (raw, image) not in resolved:
                resolved[raw, image] = targets.resolve(raw, source.parent, image)
                if resolved[raw, image] is None:
                    note_unresolved(raw, image)
            new = resolved[raw, image]
            if in_heading and not image and not (new == raw and _SCHEME.match(raw)):
                # Sphinx's table of contents takes no cross-reference or
                # download in a heading: the heading keeps the link's text.
                new = None
            if new != raw:
                # As written: percent-encoded (markdown-it's form) or not.
                for written in dict.fromkeys((raw, destination or "")):
                    changed = _rewrite_inline(changed, written, new, image)
        if changed != block:
            new_lines = changed.split("\n")
            edits[start] = new_lines
            for i in range(start + 1, end):
                edits[i] = None

    # Reference definitions, ``[label]: destination``.
    definition = re.compile(r"^ {0,3}\[([^\]]+)\]:[ \t]*(<[^>]*>|\S+)(.*)$")
    for i, line in enumerate(lines):
        m = definition.match(line)
        if m is None or i in edits:
            continue
        key = " ".join(m.group(1).split()).upper()
        if key not in env.get("references", {}):
            continue
        raw = m.group(2)[1:-1] if m.group(2).startswith("<") else m.group(2)
        new = targets.resolve(raw, source.parent, image=False)
        if new is None:
            note_unresolved(raw, False)
            edits[i] = None  # the link's text then shows as it is written
        elif new != raw:
            edits[i] = [line[: m.start(2)] + new + m.group(3)]

    # Headings at the top level of the file (not in lists or quotes).
    headings = [
        (t, tokens[i + 1])
        for i, t in enumerate(tokens)
        if t.type == "heading_open" and t.level == 0
    ]

    def heading_lines(heading):
        """Return a heading's lines, with any link rewritten above."""
        text_lines = []
        for i in range(*heading.map):
            if i not in edits:
                text_lines.append(lines[i])
            elif edits[i] is not None:
                text_lines.extend(edits[i])
        return text_lines

    if headings and tokens[0] is headings[0][0]:
        opening, _ = headings.pop(0)
        text_lines = heading_lines(opening)
        if opening.markup.startswith("#"):
            title = _ATX_CLOSE.sub("", _ATX.sub("", text_lines[0], 1))
        else:
            title = " ".join(text_lines[:-1])
        title = " ".join(title.split())
        for i in range(*opening.map):
            edits[i] = None
    stack = []
    for heading, _ in headings:
        level = int(heading.tag[1:])
        while stack and stack[-1] >= level:
            stack.pop()
        stack.append(level)
        hashes = "#" * min(first_level - 1 + len(stack), 6)
        start, end = heading.map
        text_lines = heading_lines(heading)
        if heading.markup.startswith("#"):
            first = _ATX.sub(lambda m, h=hashes: m.group(1) + h, text_lines[0], 1)
            edits[start] = [first, *text_lines[1:]]
        else:
            # A setext heading (text underlined): written as an ATX heading.
            text = " ".join(line.strip() for line in text_lines[:-1])
            edits[start] = [hashes + " " + text]
            for i in range(start + 1, end):
                edits[i] = None

    out = []
    for i, line in enumerate(lines):
        if i in edits:
            if edits[i] is not None:
                out.extend(edits[i])
        else:
            out.append(line)
    return title, "\n".join(out).strip("\n") + "\n"


def _write(path, text):
    # Rewritten only when changed, so that Sphinx rereads the page only then.
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def write_benchmark_pages(benchmarks_dir, docs_dir, out_dir):
    """Write the benchmarks page's Markdown from the committed files.

    Parameters
    ----------
    benchmarks_dir : pathlib.Path
        The repository's ``benchmarks`` folder, holding ``README.md`` and the
        ``results`` folder; either may be missing.
    docs_dir : pathlib.Path
        The documentation's source folder.
    out_dir : pathlib.Path
        Where ``benchmarks.md`` and the copied files go; a folder under
        ``docs_dir``.

    Returns
    -------
    list of pathlib.Path
        The result files shown, in the order they appear.
    """
    md = _parser()
    root = benchmarks_dir.resolve().parent
    results_dir = benchmarks_dir / "results"
    target_dir = out_dir / "benchmark_results"
    shutil.rmtree(target_dir, ignore_errors=True)
    target_dir.mkdir(parents=True)
    results = []
    if results_dir.is_dir():
        results = sorted(
            p for p in results_dir.iterdir() if p.is_file() and p.suffix in KINDS
        )
    # A leading slash makes Sphinx read a path from the docs folder, whichever
    # file includes the text.
    docs_path = "/" + target_dir.relative_to(docs_dir).as_posix()
    copied = {}
    for path in results:
        if KINDS[path.suffix] != "text":
            shutil.copyfile(path, target_dir / path.name)
            copied[path] = f"{docs_path}/{path.name}"
    by_stem = {}
    for path in results:
        by_stem.setdefault(path.stem, []).append(path)
    readme = benchmarks_dir / "README.md"
    sections = {p: _label(p.stem) for p in results if p.suffix == ".md"}
    sections[readme] = "benchmark-readme"
    targets = _Targets(root, docs_dir, target_dir / "linked", sections, copied)

    if readme.is_file():
        _, body = _convert(readme.read_text(encoding="utf-8"), readme, targets, 1, md)
    else:
        body = "The repository has no `benchmarks/README.md`.\n"
    lines = ["(benchmark-readme)=", body, "(benchmark-result-files)=", "# Result files"]
    lines += [""]
    if results:
        lines += [
            "One section for each result in the repository's",
            "`benchmarks/results/` folder: its summary, its figures, its data.",
            "",
        ]
    else:
        lines += [
            "```{note}",
            "No benchmark results are committed yet. When `benchmarks/results/`",
            "holds result files (Markdown summaries, PNG or SVG figures, CSV",
            "or JSON data), they appear on this page.",
            "```",
            "",
        ]
    for stem, paths in by_stem.items():
        paths = sorted(paths, key=lambda p: list(KINDS).index(p.suffix))
        title, body = _title(stem), ""
        if KINDS[paths[0].suffix] == "text":
            text = paths[0].read_text(encoding="utf-8")
            opening, body = _convert(text, paths[0], targets, 3, md)
            title = opening or title
        lines += [f"({_label(stem)})=", f"## {title}", ""]
        if body.strip():
            lines += [body, ""]
        for path in paths:
            kind = KINDS[path.suffix]
            if kind == "download":
                # ``path:`` makes MyST link a download whatever the suffix.
                link = f"[{path.name}](path:{copied[path]})"
                lines += [f"Every run, as data: {link}.", ""]
            elif kind == "figure":
                lines += [f"```{{figure}} {copied[path]}", f":alt: {title}"]
                lines += ["```", ""]
    _write(out_dir / "benchmarks.md", "\n".join(lines).rstrip("\n") + "\n")
    return results
