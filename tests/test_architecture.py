"""The house rules a reader relies on, checked on the source (R1, R13): the layers, one reader of the
environment, one clock, no development dependency outside the dev area, no import circles in the core."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "torium_api"
DOMAINS = {"organizations", "users", "groups", "events", "products", "orders", "accounts", "notifications", "payments",
           "admin"}
# A domain may import the domains listed for it (R1: arrow = "may be imported by"). orders → accounts is the
# documented deviation (torium_api/orders/__init__.py): a refund, a restock and a status change in one transaction.
MAY_IMPORT = {
    "organizations": set(),
    "users": {"organizations"},
    "notifications": {"users"},
    "groups": {"users", "organizations", "notifications"},
    "events": {"groups", "users", "organizations", "notifications"},
    "products": {"users", "organizations"},
    "accounts": {"users", "organizations"},
    "orders": {"products", "accounts", "users", "organizations", "notifications"},
    # payments: the provider's webhook credits a wallet through the accounts domain's ledger.
    "payments": {"accounts", "users", "organizations"},
    # admin: the back office and erasure/export, an adapter on top that orchestrates every domain's services.
    "admin": {"organizations", "users", "notifications", "groups", "events", "products", "orders", "accounts",
              "payments"},
}
CORE_MAY_IMPORT_DOMAINS = {"workers", "dev", "cli", "__init__"}  # composition roots: handlers, dev, CLI, create_app


def _modules() -> dict[str, ast.Module]:
    return {".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts): ast.parse(path.read_text())
            for path in PACKAGE.rglob("*.py")}


def _imports(tree: ast.Module, module: str) -> set[str]:
    """Every torium_api module a module imports at run time, at any depth (function-level imports included;
    ``if TYPE_CHECKING:`` imports are annotations only)."""
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING"
                   for n in ast.walk(block)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name.startswith("torium_api")}


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


MODULES = _modules()


def _calls(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            names.add(f"{node.value.id}.{node.attr}")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) \
                and isinstance(node.value.value, ast.Name):
            names.add(f"{node.value.value.id}.{node.value.attr}.{node.attr}")
    return names


def test_only_config_reads_the_environment():
    readers = {module for module, tree in MODULES.items()
               if _calls(tree) & {"os.environ", "os.getenv", "os.putenv"}}
    assert readers == {"torium_api.config"}


def test_only_the_clock_reads_the_time():
    time_reads = {"datetime.now", "datetime.utcnow", "datetime.today", "date.today", "time.time",
                  "datetime.datetime.now", "datetime.date.today"}
    readers = {module for module, tree in MODULES.items() if _calls(tree) & time_reads}
    assert readers == {"torium_api.clock"}


def test_development_packages_are_imported_only_in_the_dev_area():
    importers = set()
    for module, tree in MODULES.items():
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(name.split(".")[0] in ("moto", "pgserver") for name in names):
                importers.add(module)
    assert importers and all(module.startswith("torium_api.dev.") for module in importers), importers


def test_the_core_has_no_import_circle():
    core = {m for m in MODULES if _top(m) not in DOMAINS | CORE_MAY_IMPORT_DOMAINS}
    graph = {m: {i for i in _imports(MODULES[m], m) if i in core and i != m} for m in core}

    def visit(node, path):
        if node in path:
            raise AssertionError(" → ".join([*path[path.index(node):], node]))
        for nxt in graph[node]:
            visit(nxt, [*path, node])

    for module in sorted(graph):
        visit(module, [])


def test_the_core_does_not_import_the_domains():
    offenders = {m: sorted({_top(i) for i in _imports(t, m)} & DOMAINS) for m, t in MODULES.items()
                 if _top(m) not in DOMAINS | CORE_MAY_IMPORT_DOMAINS}
    assert {m: d for m, d in offenders.items() if d} == {}


@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_domains_import_only_the_domains_below_them(domain):
    imported = {_top(i) for m, t in MODULES.items() if _top(m) == domain for i in _imports(t, m)}
    assert (imported & DOMAINS) - {domain} <= MAY_IMPORT[domain]


def test_views_reach_the_database_and_aws_only_through_services():
    forbidden = {"torium_api.extensions.db", "torium_api.outbox", "torium_api.outbox.emit", "torium_api.aws"}
    offenders = {m: sorted(_imports(t, m) & forbidden) for m, t in MODULES.items() if m.endswith(".views")}
    assert {m: f for m, f in offenders.items() if f} == {}


def test_every_row_lock_reads_fresh_rows():
    """FOR UPDATE only through database.locked (populate_existing) or session.get(with_for_update, populate_existing):
    a lock that keeps the session's old copy decides on stale values (issue 14: cancel refunded a completed order).
    This covers the helpers tests/test_locks.py does not exercise one by one (reaper, reminder and relay batches)."""
    offenders = []
    for module, tree in MODULES.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            if isinstance(node.func, ast.Attribute) and node.func.attr == "with_for_update" \
                    and module != "torium_api.database":
                offenders.append(f"{module}:{node.lineno} .with_for_update()")
            keywords = {k.arg: k.value for k in node.keywords}
            fresh = keywords.get("populate_existing")
            if "with_for_update" in keywords and not (isinstance(fresh, ast.Constant) and fresh.value is True):
                offenders.append(f"{module}:{node.lineno} with_for_update= without populate_existing=True")
    assert not offenders, offenders



def test_tests_share_helpers_through_factories_not_conftests():
    """Fixtures live in conftest.py files; helpers a test imports live in tests/factories.py (issue 16)."""
    tests = PACKAGE.parent / "tests"
    importers = [str(path.relative_to(tests)) for path in tests.rglob("*.py")
                 for node in ast.walk(ast.parse(path.read_text()))
                 if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[-1] == "conftest"]
    assert importers == []
