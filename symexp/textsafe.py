"""Text from a record made inert for the format it is written into, and names made safe for paths.

Records live in a group-shared store (docs/reliability.md): any text field may have been written
by someone else. Nothing from a record becomes a path or markup unchecked:

- :func:`safe_component` admits only plain names (letters, digits, ``_ . = + -``, not starting
  with a dot) as path components; output paths are built from identity values that
  :mod:`symexp.store.validate` already restricted to the registries' names, and this is the last
  check before a file is named;
- :func:`terminal` escapes control characters (ANSI escape sequences, carriage returns,
  bidirectional overrides) so a line printed to a terminal cannot rewrite it;
- :func:`markdown` and :func:`md_code` escape text for Markdown (no raw HTML, no table breaks, no
  links, no code-span breakout); :func:`html` for HTML; :func:`latex` for LaTeX text;
- :func:`latex_math_ok` admits a LaTeX formula only if it uses the commands SymPy's printer
  writes for the whitelisted functions (no ``\\input``, ``\\write18``, catcode or ``$`` tricks).
"""

from __future__ import annotations

import html as _html
import re

from symexp.errors import SymexpError

_COMPONENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.=+\-]{0,199}$")


def safe_component(value: object, what: str = "name") -> str:
    """``value`` as a path component, or a one-line :class:`SymexpError` if it is not a plain name.

    Parameters
    ----------
    value : object
        The value (a model, dataset or method name; a file stem built from them).
    what : str
        What the value is, for the message.
    """
    s = str(value)
    if not _COMPONENT.match(s) or ".." in s:
        raise SymexpError(f"refusing to use {terminal(s)[:80]!r} as a file {what}: not a plain name")
    return s


def terminal(value: object) -> str:
    """``value`` with every non-printable character (ESC, CR, BEL, bidi controls, ...) written as
    a visible ``\\x..``/``\\u....`` escape: safe to print to a terminal on one line."""
    s = str(value)
    if s.isprintable():
        return s
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in s)


_MD_SPECIAL = re.compile(r"([\\`\[\]])")


def markdown(value: object) -> str:
    """Plain text for Markdown: terminal-safe, HTML special characters as entities, backslashes,
    backticks and brackets escaped (no raw HTML, no links or images, no code spans); a table cell's
    ``|`` is escaped by :func:`analysis.output.markdown_table`."""
    s = terminal(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", s)


def md_code(value: object) -> str:
    """``value`` as an inline Markdown code span: inert (code spans render no HTML) and unable to
    end early (backticks replaced; in a table, :func:`analysis.output.markdown_table` escapes ``|``)."""
    s = terminal(value).replace("`", "'")
    if any(c in s for c in "<>&"):  # an HTML code element, entities escaped: inert in any Markdown renderer
        return f"<code>{_html.escape(s, quote=True)}</code>"
    return f"`{s}`"


def html(value: object) -> str:
    """Text for HTML (elements and attributes)."""
    return _html.escape(terminal(value), quote=True)


_LATEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
          "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}"}


def latex(value: object) -> str:
    """Text for LaTeX (outside math): every special character escaped, control characters visible."""
    return "".join(_LATEX.get(c, c) for c in terminal(value))


#: The commands SymPy's LaTeX printer writes for the whitelisted SR functions and variable names.
LATEX_COMMANDS = frozenset({
    "left", "right", "frac", "sqrt", "sin", "cos", "tan", "log", "exp", "min", "max", "text", "operatorname",
    "begin", "end", "wedge", "vee", "neg", "cdot", "times", "infty", "pi", "mathrm", "mathit", "quad",
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota",
    "kappa", "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon", "phi", "varphi", "chi", "psi",
    "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
    "geq", "leq", "neq", "ge", "le", "lt", "gt", "otherwise", "limits", "sum", "prod", "abs",
})
_LATEX_CHARS = re.compile(r"^[A-Za-z0-9 \\{}_^+\-*/().,:;|=<>!&\[\]']*$")
_LATEX_ENVS = frozenset({"cases", "matrix"})


def latex_math_ok(s: object) -> bool:
    """Whether ``s`` is a formula made of harmless LaTeX (see :data:`LATEX_COMMANDS`)."""
    if not isinstance(s, str) or len(s) > 20000 or not _LATEX_CHARS.match(s):
        return False
    for m in re.finditer(r"\\([A-Za-z]+|.)", s):
        name = m.group(1)
        if name.isalpha():
            if name not in LATEX_COMMANDS:
                return False
            if name in ("begin", "end"):
                env = re.match(r"\{([A-Za-z]+)\}", s[m.end():])
                if not env or env.group(1) not in _LATEX_ENVS:
                    return False
        elif name not in (":", ",", ";", "\\", "!", " ", "{", "}", "|"):
            return False
    return True


_FORMULA_CHARS = re.compile(r"^[A-Za-z0-9 ()\[\]*+\-/.,<>=&|_!~^]*$")


def formula_text_ok(s: object) -> bool:
    """Whether ``s`` looks like a formula (SymPy's text form of the whitelisted grammar): no
    backslash, quote, backtick, dollar, newline or control character, no ``<tag``."""
    return (isinstance(s, str) and len(s) <= 20000 and bool(_FORMULA_CHARS.match(s))
            and not re.search(r"<[A-Za-z/!?]", s))  # SymPy writes "a < b"; "<tag" is markup
