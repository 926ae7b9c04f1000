"""The store side of workspace admins, on every configured backend: a workspace's credentials
and no other's, owner changes (with their refusals), owners marked gone, workspace defaults."""

from __future__ import annotations

from bot.store import Store
from bot.store.admin import Defaults, OwnerChanged, OwnerMoved, OwnerTaken
from flows import catalog
from flows.base import VerifyResult
from tests.platforms import wix

pytest_plugins = ["tests.storage_fixtures"]

WIX = catalog.get("wix")


def save(store: Store, team: str, user: str, *, account: str = wix.ACCOUNT,
         enterprise: str | None = None) -> str:
    values = {"api_key": wix.KEY, "account_id": account, "site_id": ""}
    return store.save(
        team_id=team, user_id=user, flow=WIX, values=values, enterprise_id=enterprise,
        result=VerifyResult(ok=True, store_name=f"{team} shop"),
    ).credential.id


def test_a_workspace_lists_its_own_credentials_only(store: Store) -> None:
    a1, a2 = save(store, "TA", "U1"), save(store, "TA", "U2")
    save(store, "TB", "U1")
    save(store, "TA", "U3", enterprise="E1")  # same team id, claimed by a Grid org
    assert {c.id for c in store.list_workspace("TA")} == {a1, a2}
    assert [c.user_id for c in store.list_workspace("TA", "E1")] == ["U3"]


def test_an_owner_change_moves_the_credential_and_is_audited(store: Store) -> None:
    cid = save(store, "TA", "U1")
    changed = store.set_owner(cid, "U2", actor="slack:TA:UADMIN", action="reassigned",
                              detail="admin reassigned", only_from="U1")
    assert isinstance(changed, OwnerChanged) and changed.previous == "U1"
    assert store.get(cid).user_id == "U2" and store.list_for_user("TA", "U1") == []
    (event,) = [e for e in store.audit_events(cid) if e.action == "reassigned"]
    assert event.actor == "slack:TA:UADMIN" and "from U1 to U2" in event.detail
    # Someone else moved it first: nothing changes.
    moved = store.set_owner(cid, "U3", actor="x", action="reassigned", detail="d",
                            only_from="U1")
    assert isinstance(moved, OwnerMoved) and store.get(cid).user_id == "U2"
    assert store.set_owner("nope", "U3", actor="x", action="reassigned", detail="d") is None


def test_an_owner_change_onto_the_same_key_of_the_new_owner_is_refused(store: Store) -> None:
    cid = save(store, "TA", "U1")
    theirs = save(store, "TA", "U2")
    taken = store.set_owner(cid, "U2", actor="x", action="reassigned", detail="d")
    assert isinstance(taken, OwnerTaken) and taken.info.id == theirs
    assert store.get(cid).user_id == "U1"


def test_owner_gone_marks_that_workspaces_credentials_once(store: Store) -> None:
    mine = save(store, "TA", "U1")
    other = save(store, "TB", "U1")
    assert store.mark_owner_gone("TA", "U1", actor="getkey", reason="deactivated") == [mine]
    assert store.get(mine).owner_gone_at is not None and store.get(other).owner_gone_at is None
    assert store.mark_owner_gone("TA", "U1", actor="getkey", reason="again") == []
    assert len([e for e in store.audit_events(mine) if e.action == "owner_gone"]) == 1
    # Taken over: no longer gone.
    store.set_owner(mine, "U9", actor="x", action="taken_over", detail="admin took over")
    assert store.get(mine).owner_gone_at is None


def test_workspace_defaults_round_trip_and_set_the_rotation_period(store: Store) -> None:
    assert store.workspace_defaults("TA") == Defaults()
    chosen = Defaults(admin_group="S1", rotation_days=45, platforms=("wix",))
    store.set_workspace_defaults("TA", None, chosen, actor="slack:TA:UADMIN")
    assert store.workspace_defaults("TA") == chosen
    assert store.workspace_defaults("TB") == Defaults()
    assert store.get(save(store, "TA", "U1")).rotation_days == 45
    assert store.get(save(store, "TB", "U1")).rotation_days == WIX.rotation_days
    (event,) = [e for e in store.audit_events() if e.action == "workspace_defaults"]
    assert event.actor == "slack:TA:UADMIN" and "admin" in event.detail and "45" in event.detail
