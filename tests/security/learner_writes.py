"""Every place of the product that writes a person's rows (a learner, their memberships, their
attempts), found by reading the source, never from a hand-kept list: the isolation test attacks
each one as another group and fails when one appears that it does not attack.

A write is, inside one function (or class, or module body):
- a manager or queryset write on one of those models: `Learner.objects.filter(...).update(...)`,
  `Membership.objects.bulk_create(...)`, also through an alias (`import Learner as L`);
- a write through the relations that reach them: `user.learner.save()`, `group.memberships...`;
- the `delete()` of a row whose deletion cascades to them (a group, a course);
- `save()` / `delete()` on a variable named after them, or in a function that names the model;
- a class bound to the model (`model = Learner`: admin, inline, ModelForm, ModelSerializer,
  generic view) or registered for it (`@admin.register(Learner)`);
- raw SQL that inserts into, updates or deletes from their tables.

It errs on the side of reporting: a read the rules mistake for a write is listed in the test with
the reason it is not one.
"""

from __future__ import annotations

import ast
import importlib
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("lmsbridge", "integrations", "catalog", "shared")
MODELS = {"Learner", "Membership", "Attempt"}
CASCADES = {"Group", "Course"}  # deleting one deletes memberships or attempts
RELATED = {"learner", "memberships", "attempts"}
WRITES = {
    "create",
    "bulk_create",
    "bulk_update",
    "update",
    "update_or_create",
    "get_or_create",
    "delete",
    "save",
    "add",
    "remove",
    "set",
    "clear",
}
PERSON_NAME = re.compile(r"learner|membership|attempt", re.IGNORECASE)
RAW_SQL = re.compile(
    r"\b(insert\s+into|update|delete\s+from)\s+\"?catalog_(learner|membership|attempt)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Write:
    where: str  # "catalog.services:learner_create"
    line: int
    what: str  # the expression, for the failure message

    def __str__(self) -> str:
        return f"{self.where} (line {self.line}: {self.what})"


def _modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if "migrations" in relative.parts:
                continue  # history: runs once, as the schema's owner
            yield ".".join(relative.with_suffix("").parts).removesuffix(".__init__"), path


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Local name → model name, for the models imported under another name."""
    names = {name: name for name in MODELS | CASCADES}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name in MODELS | CASCADES:
                    names[alias.asname or alias.name] = alias.name
    return names


def _chain(node: ast.expr) -> tuple[list[str], str]:
    """The attributes of a receiver, outermost first, and the name at its root."""
    attributes = []
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            attributes.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            return attributes, node.id if isinstance(node, ast.Name) else ""


class _Scanner(ast.NodeVisitor):
    def __init__(self, module: str, aliases: dict[str, str]) -> None:
        self.module, self.aliases = module, aliases
        self.scope: list[ast.AST] = []
        self.found: list[Write] = []

    def where(self) -> str:
        names = []
        for node in self.scope:
            names.append(node.name)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names.append("<locals>")
        qualname = ".".join(names[:-1] if names[-1:] == ["<locals>"] else names)
        return f"{self.module}:{qualname or '<module>'}"

    def add(self, node: ast.AST) -> None:
        self.found.append(Write(self.where(), node.lineno, ast.unparse(node)[:120]))

    def model(self, name: str) -> str:
        return self.aliases.get(name, "")

    def names_a_person_model(self) -> bool:
        body = self.scope[-1] if self.scope else None
        return body is not None and any(
            isinstance(n, ast.Name) and self.model(n.id) in MODELS for n in ast.walk(body)
        )

    # ------------------------------------------------------------------ scopes

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.scope.append(node)
        self.generic_visit(node)
        self.scope.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        inner_meta = node.name == "Meta" and self.scope and isinstance(self.scope[-1], ast.ClassDef)
        self.scope.append(node)
        if not inner_meta and self._bound_to_a_person_model(node):  # Meta: its class is
            self.add(node.decorator_list[0] if node.decorator_list else node)
        self.generic_visit(node)
        self.scope.pop()

    def _bound_to_a_person_model(self, node: ast.ClassDef) -> bool:
        registered = any(
            isinstance(decorator, ast.Call) and self._registers_a_person_model(decorator)
            for decorator in node.decorator_list
        )
        return registered or any(
            isinstance(statement, ast.Assign)
            and self._is_model_name(statement.value)
            and any(isinstance(t, ast.Name) and t.id == "model" for t in statement.targets)
            for statement in [*node.body, *_meta_body(node)]
        )

    def _registers_a_person_model(self, call: ast.Call) -> bool:
        return _chain(call.func)[0][:1] == ["register"] and any(
            self._is_model_name(arg) for arg in call.args
        )

    def _is_model_name(self, node: ast.expr) -> bool:
        return isinstance(node, ast.Name) and self.model(node.id) in MODELS

    # ------------------------------------------------------------------ writes

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Attribute) and self._writes(node.func):
            self.add(node)
        elif not self.scope and self._registers_a_person_model(node):
            self.add(node)  # admin.site.register(Learner) at module level
        self.generic_visit(node)

    def _writes(self, func: ast.Attribute) -> bool:
        if func.attr not in WRITES:
            return False
        attributes, root = _chain(func.value)
        model = self.model(root)
        if model in MODELS or RELATED & set(attributes):
            return True
        if model in CASCADES and func.attr == "delete":
            return True
        if func.attr in ("save", "delete") and not attributes:
            return bool(PERSON_NAME.search(root)) or self.names_a_person_model()
        return False

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and RAW_SQL.search(node.value):
            self.add(node)


def _meta_body(node: ast.ClassDef) -> list[ast.stmt]:
    return [
        statement
        for inner in node.body
        if isinstance(inner, ast.ClassDef) and inner.name == "Meta"
        for statement in inner.body
    ]


def scan_source(module: str, source: str) -> list[Write]:
    """The writes of a learner, membership or attempt in one module's source."""
    tree = ast.parse(source)
    scanner = _Scanner(module, _aliases(tree))
    scanner.visit(tree)
    return scanner.found


def learner_writes() -> list[Write]:
    """Every write of a learner, membership or attempt in the product's source."""
    return [
        write
        for module, path in _modules()
        for write in scan_source(module, path.read_text(encoding="utf-8"))
    ]


def resolve(where: str) -> object:
    """The function or class a `Write.where` names (for the call recorder)."""
    module, _, qualname = where.partition(":")
    target: object = importlib.import_module(module)
    for part in qualname.split("."):
        if part in ("<module>", "<locals>"):
            return None  # module level, or a nested function: not reachable by name
        target = getattr(target, part)
    return target


@contextmanager
def calls_recorded() -> Iterator[set[str]]:
    """The product's functions called inside the block, as "module:qualname", in every thread
    (a sync writes from its own): proof that an attack went through the writer it names."""
    called: set[str] = set()

    def profile(frame, event: str, arg) -> None:
        if event == "call":
            module = frame.f_globals.get("__name__", "")
            if module.startswith(PACKAGES):
                called.add(f"{module}:{frame.f_code.co_qualname}")

    sys.setprofile(profile)
    threading.setprofile(profile)
    try:
        yield called
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
