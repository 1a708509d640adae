"""Large import files for the import tests and bench/bench_import.py, shaped like a real
site's: clients with projects under them, users with cards, groups and a cost centre."""

from __future__ import annotations


def billing_codes_csv(rows: int, *, name_suffix: str = "") -> str:
    """``rows`` codes: one client per 10 lines, 9 projects each; clients are assigned to
    the demo's staff group, every third project to alice (a demo user)."""
    lines = ["code,name,parent,active,assigned_to,payer"]
    for n in range(rows):
        client = n // 10
        if n % 10 == 0:
            lines.append(f"C{client:06d},Client {client}{name_suffix},,true,group:staff,code")
        else:
            lines.append(f"C{client:06d}-P{n % 10},Project {n}{name_suffix},C{client:06d},"
                         f"true,{'user:alice' if n % 3 == 0 else ''},")
    return "\n".join(lines) + "\n"


def users_csv(rows: int, *, name_suffix: str = "") -> str:
    """``rows`` users, each with a card, two groups (of 20) and a cost centre (of 50)."""
    lines = ["username,display_name,email,language,groups,cost_centre,status,cards,"
             "overdraft_limit"]
    for n in range(rows):
        lines.append(f"user{n:06d},User {n}{name_suffix},user{n}@example.org,"
                     f"{'fr' if n % 2 else 'en'},grp{n % 20};all,CC{n % 50:02d},active,"
                     f"9{n:09d},{n % 3}.50")
    return "\n".join(lines) + "\n"
