"""Name expressions of sync rules: text with ``${expression}`` substitutions (R-RULE-5, R-SEC-4).

Templates are split by Mako's lexer; only text and ``${...}`` are accepted (no ``<% %>``, ``% ``
lines, ``## `` comments, ``<%tags>``, nor ``${expr | filter}`` filters). Each expression must
use a small whitelist of Python syntax; it is rewritten so that attribute reads, method calls
and ``*``/``+``/``%`` go through bounded helpers, then evaluated with ``safe_eval``.
``object`` is a :class:`RecordView`: field values only, related records as views, no methods.
Results, time and sizes are bounded; any violation raises :class:`TemplateError`.
"""
import ast
import datetime
import functools
import re
import time

import psycopg2
from mako.lexer import Lexer
from mako import parsetree

from odoo.models import BaseModel
from odoo.tools.safe_eval import safe_eval, test_python_expr

MAX_TEMPLATE_LENGTH = 2000     # characters of a whole template
MAX_EXPRESSION_LENGTH = 500    # characters of one ${...} expression
MAX_NODES = 300                # AST nodes of one expression
MAX_DEPTH = 40                 # AST depth of one expression
MAX_OUTPUT = 1000              # characters rendered by one expression, and by the template
MAX_VALUE = 10000              # size of any value an operation of the template builds
MAX_INT_BITS = 4096            # size of an integer a multiplication may build
TIME_LIMIT = 2.0               # seconds to render one template

SAFE_FUNCTIONS = {"str": str, "int": int, "float": float, "bool": bool, "len": len,
                  "abs": abs, "round": round, "min": min, "max": max}
SAFE_TYPES = (str, bytes, bool, int, float, datetime.date, datetime.time, datetime.timedelta,
              list, tuple, dict)
SAFE_ATTRIBUTES = frozenset("""
    upper lower title capitalize casefold swapcase strip lstrip rstrip replace split rsplit
    join startswith endswith find rfind count partition rpartition removeprefix removesuffix
    zfill center ljust rjust isdigit isalpha isalnum isspace isupper islower istitle
    year month day hour minute second microsecond weekday isoweekday isoformat strftime
    date days seconds total_seconds is_integer get keys values items
""".split())
SAFE_NODES = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.BinOp, ast.Add, ast.Sub, ast.Mult,
    ast.Div, ast.FloorDiv, ast.Mod, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd, ast.IfExp,
    ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
    ast.Is, ast.IsNot, ast.Call, ast.keyword, ast.Attribute, ast.Subscript, ast.Slice,
    ast.Name, ast.Load, ast.Constant, ast.Tuple, ast.List, ast.Dict, ast.Set, ast.JoinedStr,
    ast.FormattedValue,
)
# printf-style conversion: its width / precision must be small literals
PRINTF_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
LONG_NUMBER = re.compile(r"\d{4,}")


class TemplateError(ValueError):
    pass


# ----------------------------------------------------------------------------------------
# Read-only view of a record
# ----------------------------------------------------------------------------------------
class RecordView:
    """What a template sees of a record: its fields' values, related records as views.

    Every attribute access goes through ``__getattribute__`` and reads a field, so neither
    the record, its methods, its environment nor ``__class__`` & co can be reached.
    """

    __slots__ = ("_record",)

    def __init__(self, record):
        _RECORD.__set__(self, record)

    def __getattribute__(self, name):
        if name == "__class__":  # isinstance() checks, e.g. safe_eval's own value checks
            return RecordView
        return _read_field(_RECORD.__get__(self), name)

    def __setattr__(self, name, value):
        raise TemplateError("records are read-only in name expressions")

    __delattr__ = __setattr__

    def __bool__(self):
        return bool(_RECORD.__get__(self))

    def __eq__(self, other):
        return isinstance(other, RecordView) and _RECORD.__get__(self) == _RECORD.__get__(other)

    def __hash__(self):
        return hash(_RECORD.__get__(self))

    def __repr__(self):
        return repr(_RECORD.__get__(self))

    __str__ = __repr__

    def __format__(self, spec):
        if spec:
            raise TemplateError("records cannot be formatted with %r" % spec)
        return repr(self)

    def __reduce_ex__(self, protocol):
        raise TemplateError("records cannot be copied in name expressions")


_RECORD = RecordView.__dict__["_record"]  # the slot's descriptor, for this module only


def _read_field(record, name):
    field = record._fields.get(name) if not name.startswith("_") else None
    if field is None:
        raise TemplateError("%s has no field %r; name expressions can only read fields"
                            % (record._name, name))
    if not record.env.su and not field.is_accessible(record.env):
        raise TemplateError("field %r of %s is not readable" % (name, record._name))
    return _safe_value(record[name], field.type in ("one2many", "many2many"))


def _safe_value(value, many=False):
    """Plain Python value for the template: records become views, containers are copied."""
    if isinstance(value, BaseModel):
        return tuple(RecordView(r) for r in value) if many else RecordView(value)
    if isinstance(value, dict):
        return {k: _safe_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_safe_value(v) for v in value)
    return value


# ----------------------------------------------------------------------------------------
# Parsing and checking
# ----------------------------------------------------------------------------------------
REFUSED_NODES = [
    (parsetree.Code, "Mako code blocks (<% ... %>, <%! ... %>) are not allowed"),
    (parsetree.ControlLine, "Mako control lines (% ...) are not allowed"),
    (parsetree.Comment, "Mako comments (## ...) are not allowed"),
    (parsetree.Tag, "Mako tags (<%def>, <%include> ...) are not allowed"),
]


def parse(template, names=()):
    """Split a template into ``[(is_expression, text)]``; raise TemplateError if malformed
    or if an expression uses anything outside the allowed subset."""
    return [(is_expr, text) for is_expr, text, _source in _compile(template or "",
                                                                      frozenset(names))]


def validate(template):
    parse(template)


@functools.lru_cache(maxsize=256)
def _compile(template, names):
    if len(template) > MAX_TEMPLATE_LENGTH:
        raise TemplateError("the template is too long (%d characters, at most %d)"
                            % (len(template), MAX_TEMPLATE_LENGTH))
    try:
        nodes = Lexer(template).parse().nodes
    except RecursionError as exc:
        raise TemplateError("the template is nested too deeply") from exc
    except Exception as exc:  # Mako's syntax / compile exceptions, Python syntax errors
        raise TemplateError(str(exc)) from exc
    parts = []
    for node in nodes:
        if isinstance(node, parsetree.Text):
            parts.append((False, node.content, None))
        elif isinstance(node, parsetree.Expression):
            if node.escapes and node.escapes.strip():
                raise TemplateError("filters (${expression | filter}) are not supported")
            expression = (node.text or "").strip()
            parts.append((True, expression, _check_expression(expression, names)))
        else:
            message = next((msg for cls, msg in REFUSED_NODES if isinstance(node, cls)),
                           "only text and ${...} expressions are allowed")
            raise TemplateError(message)
    return tuple(parts)


def _check_expression(expression, names):
    """Check one expression; return the bounded source that will be evaluated."""
    if not expression:
        raise TemplateError("empty expression ${}")
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise TemplateError("expression too long (at most %d characters)"
                            % MAX_EXPRESSION_LENGTH)
    try:
        tree = ast.parse(expression, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise TemplateError("invalid expression %r: %s" % (expression, exc)) from exc
    allowed_names = {"object"} | set(SAFE_FUNCTIONS) | set(names)
    count, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES or depth > MAX_DEPTH:
            raise TemplateError("expression too complex")
        _check_node(node, allowed_names)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    error = test_python_expr(expression, mode="eval")  # Odoo's own sandbox checks
    if error:
        raise TemplateError(error)
    return ast.unparse(ast.fix_missing_locations(_Bounder().visit(tree)))


def _check_node(node, allowed_names):
    if not isinstance(node, SAFE_NODES):
        raise TemplateError("%s is not allowed in name expressions" % type(node).__name__)
    if isinstance(node, ast.Name) and (node.id not in allowed_names or node.id.startswith("_")):
        raise TemplateError("unknown name %r (use object.<field>)" % node.id)
    if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
        raise TemplateError("private attribute %r is not allowed" % node.attr)
    if isinstance(node, ast.Call):
        if not isinstance(node.func, (ast.Name, ast.Attribute)):
            raise TemplateError("only functions and methods can be called")
        if isinstance(node.func, ast.Attribute) and node.func.attr not in SAFE_ATTRIBUTES:
            raise TemplateError("%s() cannot be called in name expressions; records show "
                                "their field values only" % node.func.attr)
        if any(kw.arg is None for kw in node.keywords):
            raise TemplateError("**arguments are not allowed")
    if isinstance(node, ast.Dict) and None in node.keys:
        raise TemplateError("**unpacking is not allowed")
    if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
        spec = node.format_spec
        if not all(isinstance(v, ast.Constant) for v in spec.values):
            raise TemplateError("format specifications must be literal")
        if LONG_NUMBER.search("".join(str(v.value) for v in spec.values)):
            raise TemplateError("format widths are limited")


class _Bounder(ast.NodeTransformer):
    """Route attribute reads, calls, ``+``, ``*``, ``%`` and f-strings through the helpers."""

    @staticmethod
    def _helper(name, *args, keywords=()):
        return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(args),
                        keywords=list(keywords))

    def visit_Attribute(self, node):
        return self._helper("_tpl_attr", self.visit(node.value), ast.Constant(node.attr))

    def visit_Call(self, node):
        args = [self.visit(a) for a in node.args]
        keywords = [ast.keyword(arg=k.arg, value=self.visit(k.value)) for k in node.keywords]
        if isinstance(node.func, ast.Attribute):
            return self._helper("_tpl_method", self.visit(node.func.value),
                                ast.Constant(node.func.attr), *args, keywords=keywords)
        return self._helper("_tpl_call", ast.Constant(node.func.id), *args, keywords=keywords)

    def visit_BinOp(self, node):
        name = {ast.Add: "_tpl_add", ast.Mult: "_tpl_mul", ast.Mod: "_tpl_mod"}.get(type(node.op))
        if not name:
            return self.generic_visit(node)
        return self._helper(name, self.visit(node.left), self.visit(node.right))

    def visit_JoinedStr(self, node):
        return self._helper("_tpl_check", self.generic_visit(node))


# ----------------------------------------------------------------------------------------
# Evaluation
# ----------------------------------------------------------------------------------------
def _size(value):
    return len(value) if isinstance(value, (str, bytes, list, tuple, dict, set)) else 0


class _Evaluation:
    """The helpers one rendering uses; they share its deadline."""

    def __init__(self):
        self.deadline = time.monotonic() + TIME_LIMIT

    def check(self, value):
        if time.monotonic() > self.deadline:
            raise TemplateError("the name expression takes too long")
        if _size(value) > MAX_VALUE:
            raise TemplateError("value too large (more than %d items)" % MAX_VALUE)
        return value

    def attr(self, value, name):
        self.check(None)
        if isinstance(value, RecordView):
            return getattr(value, name)
        if name not in SAFE_ATTRIBUTES or not isinstance(value, SAFE_TYPES) \
                or not hasattr(type(value), name):
            raise TemplateError("attribute %r of %s is not available in name expressions"
                                % (name, type(value).__name__))
        return getattr(value, name)

    def method(self, value, name, *args, **kwargs):
        if isinstance(value, RecordView):
            raise TemplateError("methods of records cannot be called in name expressions")
        method = self.attr(value, name)
        if name == "replace" and isinstance(value, (str, bytes)) and len(args) >= 2:
            old, new = args[0], args[1]
            hits = value.count(old) if old else len(value) + 1
            if len(value) + hits * max(_size(new) - _size(old), 0) > MAX_VALUE:
                raise TemplateError("value too large")
        elif name == "join":
            items = list(args[0]) if args else []
            if sum(_size(i) for i in items) + _size(value) * len(items) > MAX_VALUE:
                raise TemplateError("value too large")
            args = (items,) + args[1:]
        elif name in ("zfill", "center", "ljust", "rjust"):
            width = args[0] if args else kwargs.get("width", 0)
            if isinstance(width, int) and width > MAX_VALUE:
                raise TemplateError("value too large")
        elif name == "strftime":
            fmt = args[0] if args else kwargs.get("format", "")
            if isinstance(fmt, str) and re.search(r"%[-_0^#]*\d{3,}", fmt):
                raise TemplateError("date format widths are limited")
        return self.check(method(*args, **kwargs))

    def call(self, name, *args, **kwargs):
        self.check(None)
        return self.check(SAFE_FUNCTIONS[name](*args, **kwargs))

    def add(self, left, right):
        if _size(left) + _size(right) > MAX_VALUE:
            raise TemplateError("value too large")
        return self.check(left + right)

    def mul(self, left, right):
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, (str, bytes, list, tuple)) and isinstance(times, int) \
                    and len(seq) * times > MAX_VALUE:
                raise TemplateError("value too large (repetition is limited to %d items)"
                                    % MAX_VALUE)
        if isinstance(left, int) and isinstance(right, int) \
                and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise TemplateError("number too large")
        return self.check(left * right)

    def mod(self, left, right):
        if isinstance(left, (str, bytes)):
            text = left.decode("latin-1") if isinstance(left, bytes) else left
            for width, precision in PRINTF_SPEC.findall(text):
                if "*" in (width, precision) or len(width) > 3 or len(precision) > 3:
                    raise TemplateError("format widths are limited")
        return self.check(left % right)

    def globals(self):
        return {"_tpl_attr": self.attr, "_tpl_method": self.method, "_tpl_call": self.call,
                "_tpl_add": self.add, "_tpl_mul": self.mul, "_tpl_mod": self.mod,
                "_tpl_check": self.check}


def render(template, record, context=None):
    """Render ``template`` for ``record`` (read through a :class:`RecordView`, with the
    record's own environment); raises TemplateError when checking or evaluation fails."""
    context = dict(context or {})
    parts = _compile(template or "", frozenset(context))
    evaluation = _Evaluation()
    values = {name: _safe_value(value) for name, value in context.items()}
    values.update(evaluation.globals(), object=RecordView(record))
    output, length = [], 0
    for is_expression, text, source in parts:
        if is_expression:
            text = _evaluate(source, values)
            if len(text) > MAX_OUTPUT:
                raise TemplateError("the expression %r gives more than %d characters"
                                    % (text[:20], MAX_OUTPUT))
        length += len(text)
        if length > MAX_OUTPUT:
            raise TemplateError("the name is longer than %d characters" % MAX_OUTPUT)
        output.append(text)
    return "".join(output)


def _evaluate(source, values):
    try:
        value = safe_eval(source, values)
    except psycopg2.Error:
        raise
    except Exception as exc:  # sandbox errors, missing fields, bad types...
        # safe_eval wraps errors in a ValueError that quotes the rewritten source
        cause = exc.__context__ if type(exc) is ValueError and exc.__context__ else exc
        if isinstance(cause, psycopg2.Error):
            raise cause from None
        raise TemplateError(str(cause) or type(cause).__name__) from exc
    if value is False or value is None:
        return ""
    return str(value)
