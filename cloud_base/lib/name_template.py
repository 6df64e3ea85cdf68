"""Name expressions in Mako-like ``${...}`` syntax, evaluated in Odoo's sandbox (R-RULE-5).

Only ``${expression}`` substitutions are supported; text outside them is kept as is. Control
structures of Mako (``<% %>``, ``<%! %>``, ``% for`` lines, ``## comments``) and anything that
tries imports or dunder access are refused when the template is validated.
"""
import re

from odoo.tools.safe_eval import safe_eval, test_python_expr

TOKEN = re.compile(r"\$\{(.*?)\}", re.S)
FORBIDDEN_SYNTAX = [
    (re.compile(r"<%"), "Mako code blocks (<% ... %>) are not allowed"),
    (re.compile(r"^\s*%", re.M), "Mako control lines (% ...) are not allowed"),
    (re.compile(r"\bimport\b"), "imports are not allowed"),
    (re.compile(r"__\w*"), "names with double underscores are not allowed"),
    (re.compile(r"\bexec\b|\beval\b|\bopen\b|\bcompile\b|\bglobals\b|\blocals\b"),
     "this function is not allowed"),
]


class TemplateError(ValueError):
    pass


def parse(template):
    """Split a template into ``[(is_expression, text)]``; raise TemplateError if malformed."""
    template = template or ""
    for pattern, message in FORBIDDEN_SYNTAX:
        if pattern.search(template):
            raise TemplateError(message)
    parts, position = [], 0
    for match in TOKEN.finditer(template):
        if match.start() > position:
            parts.append((False, template[position:match.start()]))
        expression = match.group(1).strip()
        if not expression:
            raise TemplateError("empty expression ${}")
        error = test_python_expr(expression, mode="eval")
        if error:
            raise TemplateError(error)
        parts.append((True, expression))
        position = match.end()
    rest = template[position:]
    if "${" in rest:
        raise TemplateError("unclosed ${ ... } expression")
    if rest:
        parts.append((False, rest))
    return parts


def validate(template):
    parse(template)


def render(template, record, context=None):
    """Render ``template`` for ``record``; raises TemplateError when evaluation fails."""
    output = []
    values = dict(context or {}, object=record)
    for is_expression, text in parse(template):
        if not is_expression:
            output.append(text)
            continue
        try:
            value = safe_eval(text, dict(values))
        except Exception as exc:  # sandbox errors, missing fields, bad types...
            raise TemplateError(str(exc)) from exc
        if value is False or value is None:
            value = ""
        output.append(str(value))
    return "".join(output)
