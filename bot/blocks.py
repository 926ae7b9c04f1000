"""Block Kit for every surface the bot shows, built from slack_sdk.models.

flows/ describes a platform; this module decides layout. Building from the models means the
limits slack_sdk knows are checked on `to_dict()`; `validate_blocks`/`validate_view` add the
ones it does not (see shared/slack-notes.md) and are run over everything the tests see.
Nothing here receives a secret: callers pass masked values and non-secret identifiers only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot import wording
from flows import catalog
from flows.base import Field, Flow, VerifyResult

if TYPE_CHECKING:
    from bot.store.repository import CredentialInfo


class Ids:
    """Every action, block and callback id the bot uses, so listeners and tests agree."""

    PICK_PLATFORM = "getkey.pick_platform"  # static select in the help message
    SHOW_GUIDE = "getkey.show_guide"  # "did you mean" buttons: SHOW_GUIDE + "." + flow id
    OPEN_FORM = "getkey.open_form"  # the guide's button; value = flow id
    DELETE = "getkey.delete"  # per-row button in /getkey list; value = {"id", "label"}
    FORM = "getkey.credential_form"  # modal callback_id
    CONFIRM_DELETE = "getkey.confirm_delete"  # modal callback_id
    FIELD_PREFIX = "field."  # input block_id = FIELD_PREFIX + field key
    FIELD_ACTION = "value"  # action_id inside every input block
    PROBLEM = "problem"  # block_id of the failure explanation in a re-rendered form
    ROTATION = "getkey.rotation"  # input block: how often to be reminded to rotate
    ROTATION_DEFAULT = "default"  # its option meaning "the platform's (or workspace's) period"

    @staticmethod
    def field_block(key: str) -> str:
        return Ids.FIELD_PREFIX + key

    @staticmethod
    def guide_action(flow_id: str) -> str:
        return f"{Ids.SHOW_GUIDE}.{flow_id}"


# Slack limits (shared/slack-notes.md)
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SECTION_TEXT = 3000
FIELD_TEXT = 2000
HEADER_TEXT = 150
TITLE_TEXT = 24
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
OPTION_TEXT = 75
OPTION_VALUE = 150
ID_LENGTH = 255
INPUT_MAX = 3000
PLACEHOLDER_TEXT = 150
METADATA = 3000
VIEW_BYTES = 250_000
SELECT_OPTIONS = 100

PRIVACY_NOTE = "Only you can see this."


# -- small helpers ----------------------------------------------------------------------
def escape(text: str) -> str:
    """Text from people or platforms must not become mrkdwn links or mentions."""
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def slack_date(when: datetime | None, missing: str = "—") -> str:
    """A date Slack renders in the reader's own time zone, with an ISO fallback."""
    if when is None:
        return missing
    return f"<!date^{int(when.timestamp())}^{{date_short}}|{when.date().isoformat()}>"


def _md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=clip(text, SECTION_TEXT))


def _plain(text: str, limit: int) -> PlainTextObject:
    return PlainTextObject(text=clip(text, limit), emoji=True)


def _chunks(lines: Iterable[str], limit: int = SECTION_TEXT) -> list[str]:
    """Join lines into as few texts as fit the section limit."""
    out: list[str] = []
    current = ""
    for line in lines:
        line = clip(line, limit)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            out.append(current)
            current = line
        else:
            current = candidate
    if current:
        out.append(current)
    return out


def flow_name(platform_id: str) -> str:
    flow = catalog.get(platform_id)
    return flow.name if flow else platform_id


def platform_select(placeholder: str = "Choose a platform") -> StaticSelectElement:
    options = [
        Option(text=clip(f.name, OPTION_TEXT), value=f.id)
        for f in catalog.all_flows()[:SELECT_OPTIONS]
    ]
    return StaticSelectElement(
        action_id=Ids.PICK_PLATFORM,
        placeholder=_plain(placeholder, PLACEHOLDER_TEXT),
        options=options,
    )


def _dicts(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks]


# -- messages (ephemeral answers to /getkey) --------------------------------------------
def help_blocks() -> list[dict[str, Any]]:
    names = ", ".join(f.name for f in catalog.all_flows())
    blocks: list[Block] = [
        SectionBlock(
            text=_md(
                "*getkey* walks you to a working API key for your store: where to click, what "
                "to tick, the mistakes to avoid. Paste the key into a form and it is checked "
                "live with the platform, stored encrypted, and you get a reminder before it "
                "expires or is due for rotation."
            )
        ),
        SectionBlock(
            block_id="pick",
            text=_md("*Which platform is the key for?*"),
            accessory=platform_select(),
        ),
        ContextBlock(
            elements=[
                _md(
                    f"Supported: {names}. Or type `/getkey wix` directly. "
                    "`/getkey list` shows your stored keys, `/getkey delete` removes one. "
                    + PRIVACY_NOTE
                )
            ]
        ),
    ]
    return _dicts(blocks)


def help_text() -> str:
    return "getkey: pick your platform to see how to get its API key."


def guide_blocks(flow: Flow) -> list[dict[str, Any]]:
    blocks: list[Block] = [HeaderBlock(text=_plain(f"{flow.name}: get an API key", HEADER_TEXT))]
    if flow.summary:
        blocks.append(SectionBlock(text=_md(flow.summary)))
    steps = [
        f"*{n}. {escape(step.title)}*" + (f"\n{step.detail}" if step.detail else "")
        for n, step in enumerate(flow.steps, start=1)
    ]
    # Steps share sections so that a long guide stays well under the 50-block message limit.
    blocks += [SectionBlock(text=_md(text)) for text in _chunks(steps)]
    if flow.fields:
        wanted = [
            f"• *{escape(f.label)}*" + (" (kept secret)" if f.secret else "")
            + (f": {f.hint}" if f.hint else "")
            for f in flow.fields
        ]
        blocks += [
            SectionBlock(text=_md(text))
            for text in _chunks(["*What you will paste*", *wanted])
        ]
    if flow.troubleshooting:
        trouble = [f"• *{escape(t.symptom)}*: {t.fix}" for t in flow.troubleshooting]
        blocks.append(DividerBlock())
        blocks += [
            SectionBlock(text=_md(text))
            for text in _chunks(["*Common mistakes*", *trouble])
        ]
    if flow.verifiable and flow.fields:
        blocks.append(
            ActionsBlock(
                block_id="start",
                elements=[
                    ButtonElement(
                        text=_plain("Paste the key", BUTTON_TEXT),
                        action_id=Ids.OPEN_FORM,
                        value=flow.id,
                        style="primary",
                    )
                ],
            )
        )
        note = (
            f"The key is sent only to {flow.name} to check it, then stored encrypted; Slack "
            "only ever shows its last 4 characters. " + PRIVACY_NOTE
        )
    else:
        note = f"{flow.name} has no API key to check: the steps above are all there is. "
        note += PRIVACY_NOTE
    blocks.append(ContextBlock(elements=[_md(note)]))
    return _dicts(blocks[:MESSAGE_BLOCKS])


def guide_text(flow: Flow) -> str:
    return f"How to get a {flow.name} API key"


def unknown_blocks(name: str, suggestions: Sequence[Flow]) -> list[dict[str, Any]]:
    typed = escape(clip(name.strip(), 60))
    blocks: list[Block] = []
    if suggestions:
        listed = " or ".join(f"*{s.name}*" for s in suggestions)
        blocks.append(
            SectionBlock(
                text=_md(f"I don't know a platform called “{typed}”. Did you mean {listed}?")
            )
        )
        blocks.append(
            ActionsBlock(
                block_id="suggestions",
                elements=[
                    ButtonElement(
                        text=_plain(s.name, BUTTON_TEXT),
                        action_id=Ids.guide_action(s.id),
                        value=s.id,
                    )
                    for s in suggestions[:5]
                ],
            )
        )
    else:
        blocks.append(
            SectionBlock(
                block_id="pick",
                text=_md(f"I don't know a platform called “{typed}”. Pick yours from the list:"),
                accessory=platform_select(),
            )
        )
    note = "`/getkey help` lists every platform. " + PRIVACY_NOTE
    blocks.append(ContextBlock(elements=[_md(note)]))
    return _dicts(blocks)


def unknown_text(name: str, suggestions: Sequence[Flow]) -> str:
    if suggestions:
        return "Did you mean " + " or ".join(s.name for s in suggestions) + "?"
    return "Unknown platform: pick yours from the list."


def status_label(status: str) -> str:
    return {
        "verified": ":large_green_circle: verified",
        "failing": ":red_circle: failing",
        "expiring": ":large_orange_circle: expiring soon",
        "expired": ":black_circle: expired",
    }.get(status, status)


def row_label(info: CredentialInfo) -> str:
    """A short, non-secret description of a stored credential."""
    store = info.store_name or info.identity
    return clip(f"{flow_name(info.platform)} · {store} · {info.masked}", 200)


def list_blocks(infos: Sequence[CredentialInfo]) -> list[dict[str, Any]]:
    if not infos:
        return _dicts(
            [
                SectionBlock(
                    text=_md(
                        "You have no stored keys yet. Type `/getkey` to pick a platform and "
                        "add one."
                    )
                ),
                ContextBlock(elements=[_md(PRIVACY_NOTE)]),
            ]
        )
    shown = infos[: MESSAGE_BLOCKS - 3]
    blocks: list[Block] = [HeaderBlock(text=_plain("Your stored keys", HEADER_TEXT))]
    for n, info in enumerate(shown, start=1):
        store = escape(info.store_name or info.identity)
        verified = slack_date(info.last_checked_at or info.verified_at)
        text = (
            f"*{n}. {escape(flow_name(info.platform))}* · {store}\n"
            f"`{info.masked}` · {status_label(info.status)}\n"
            f"Last verified {verified} · next reminder "
            f"{slack_date(info.next_reminder_at, 'none planned')}"
        )
        value = json.dumps({"id": info.id, "label": row_label(info)})
        blocks.append(
            SectionBlock(
                block_id=clip(f"row.{info.id}", ID_LENGTH),
                text=_md(text),
                accessory=ButtonElement(
                    text=_plain("Delete", BUTTON_TEXT),
                    action_id=Ids.DELETE,
                    value=clip(value, BUTTON_VALUE),
                    style="danger",
                ),
            )
        )
    more = len(infos) - len(shown)
    note = f"{more} more not shown. " if more > 0 else ""
    note += "`/getkey delete <number>` removes one. Values are never shown in full. "
    blocks.append(ContextBlock(elements=[_md(note + PRIVACY_NOTE)]))
    return _dicts(blocks)


def list_text(infos: Sequence[CredentialInfo]) -> str:
    return f"You have {len(infos)} stored key(s)." if infos else "You have no stored keys yet."


def notice_blocks(text: str) -> list[dict[str, Any]]:
    return _dicts([SectionBlock(text=_md(text))])


def dm_blocks(flow: Flow, info: CredentialInfo, *, replaced: bool) -> list[dict[str, Any]]:
    store = escape(info.store_name or info.identity)
    action = "replaced the previous one" if replaced else "stored"
    text = (
        f":white_check_mark: Your *{escape(flow.name)}* key for *{store}* (`{info.masked}`) "
        f"is verified and {action}, encrypted."
    )
    context = f"Next reminder: {slack_date(info.next_reminder_at, 'none planned')}. "
    context += "`/getkey list` shows your keys."
    return _dicts([SectionBlock(text=_md(text)), ContextBlock(elements=[_md(context)])])


def dm_text(flow: Flow, info: CredentialInfo) -> str:
    return f"Your {flow.name} key for {info.store_name or info.identity} is verified and stored."


# -- modals -----------------------------------------------------------------------------
def metadata(flow_id: str, *, credential_id: str | None = None, channel: str | None = None) -> str:
    """private_metadata: identifiers only, never a value from the form."""
    return json.dumps({"flow": flow_id, "credential": credential_id, "channel": channel})


def read_metadata(raw: str | None) -> dict[str, Any]:
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _title(flow: Flow) -> PlainTextObject:
    return _plain(f"{flow.name} key", TITLE_TEXT)


def _input(f: Field, values: Mapping[str, str]) -> InputBlock:
    # A secret is never put back into a view: the person pastes it again.
    initial = "" if f.secret else (values.get(f.key) or "")
    element: StaticSelectElement | PlainTextInputElement
    if f.choices:
        options = [
            Option(text=clip(label, OPTION_TEXT), value=value)
            for value, label in f.choices[:SELECT_OPTIONS]
        ]
        chosen = next((o for o in options if o.value == initial), None)
        element = StaticSelectElement(
            action_id=Ids.FIELD_ACTION,
            placeholder=_plain(f"Choose {f.label.lower()}", PLACEHOLDER_TEXT),
            options=options,
            initial_option=chosen,
        )
    else:
        element = PlainTextInputElement(
            action_id=Ids.FIELD_ACTION,
            multiline=f.multiline or None,
            max_length=max(1, min(f.max_length, INPUT_MAX)),
            placeholder=_plain(f"e.g. {f.example}", PLACEHOLDER_TEXT) if f.example else None,
            initial_value=clip(initial, min(f.max_length, INPUT_MAX)) if initial else None,
        )
    return InputBlock(
        block_id=Ids.field_block(f.key),
        label=_plain(f.label, 2000),
        element=element,
        hint=_plain(f.hint, 2000) if f.hint else None,
        optional=not f.required,
    )


ROTATION_CHOICES = (30, 60, 90, 180, 365)


def _rotation_input(default_days: int, chosen: int | None) -> InputBlock:
    """Per-credential rotation period (issue: default per platform, overridable per
    workspace and per credential)."""
    default = Option(
        text=clip(f"Default: every {default_days} days", OPTION_TEXT), value=Ids.ROTATION_DEFAULT
    )
    options = [default] + [
        Option(text=f"Every {days} days", value=str(days))
        for days in ROTATION_CHOICES
        if days != default_days
    ]
    initial = next((o for o in options if chosen is not None and o.value == str(chosen)), default)
    return InputBlock(
        block_id=Ids.ROTATION,
        label=_plain("Remind me to rotate it", 2000),
        element=StaticSelectElement(
            action_id=Ids.FIELD_ACTION, options=options, initial_option=initial
        ),
        hint=_plain("A DM with a Rotate now button when the period is up.", 2000),
        optional=True,
    )


def read_rotation(state: Mapping[str, Any]) -> int | None:
    """The period chosen in a submitted form; None means the default."""
    element = (state.get(Ids.ROTATION) or {}).get(Ids.FIELD_ACTION) or {}
    value = str((element.get("selected_option") or {}).get("value") or "")
    return int(value) if value.isdigit() and 0 < int(value) <= 3650 else None


def form_view(
    flow: Flow,
    *,
    private_metadata: str,
    values: Mapping[str, str] | None = None,
    problem: VerifyResult | None = None,
    default_rotation_days: int | None = None,
    rotation_days: int | None = None,
) -> dict[str, Any]:
    """The credential form. `values` may pre-fill non-secret fields after a failure;
    `rotation_days` is the period chosen before (None: the default one)."""
    values = values or {}
    blocks: list[Block] = []
    if problem is not None:
        explained = wording.problem_text(flow, problem)
        blocks.append(SectionBlock(block_id=Ids.PROBLEM, text=_md(explained)))
        blocks.append(DividerBlock())
    elif flow.summary:
        blocks.append(ContextBlock(elements=[_md(flow.summary)]))
    blocks += [_input(f, values) for f in flow.fields]
    if flow.verifiable:
        blocks.append(_rotation_input(default_rotation_days or flow.rotation_days, rotation_days))
    blocks.append(
        ContextBlock(
            elements=[
                _md(
                    f"Sent only to {flow.name} to check it, then stored encrypted. "
                    "Slack never shows it again in full."
                )
            ]
        )
    )
    view = View(
        type="modal",
        callback_id=Ids.FORM,
        title=_title(flow),
        submit=_plain("Verify" if problem is None else "Try again", TITLE_TEXT),
        close=_plain("Cancel", TITLE_TEXT),
        private_metadata=private_metadata,
        blocks=blocks,
    )
    return view.to_dict()


def verifying_view(flow: Flow, private_metadata: str) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=Ids.FORM,
        title=_title(flow),
        close=_plain("Close", TITLE_TEXT),
        private_metadata=private_metadata,
        blocks=[
            SectionBlock(text=_md(f":hourglass_flowing_sand: Checking the key with {flow.name}…")),
            ContextBlock(elements=[_md("This usually takes a few seconds.")]),
        ],
    )
    return view.to_dict()


def result_view(
    flow: Flow,
    info: CredentialInfo,
    result: VerifyResult,
    *,
    replaced: bool,
    rotating: CredentialInfo | None = None,
) -> dict[str, Any]:
    """`rotating`: the stored key a "Rotate now" started from, when the new key turned out to
    belong to a different store; the old one is kept, and the person is told so."""
    store = escape(info.store_name or result.store_name or info.identity)
    facts = [
        f"*Store*\n{store}",
        f"*Key*\n`{info.masked}`",
        f"*Permissions found*\n{escape(', '.join(result.granted)) or '—'}",
        f"*Missing*\n{escape(', '.join(result.missing)) or 'nothing'}",
        f"*Expires*\n{slack_date(info.expires_at or result.expires_at, 'no expiry date')}",
        f"*Next reminder*\n{slack_date(info.next_reminder_at, 'none planned')}",
    ]
    if result.account:
        facts.insert(1, f"*Account*\n{escape(result.account)}")
    blocks: list[Block] = [
        HeaderBlock(text=_plain(f"✅ {flow.name} key verified", HEADER_TEXT)),
        SectionBlock(fields=[_md(clip(f, FIELD_TEXT)) for f in facts[:10]]),
    ]
    if result.missing:
        blocks.append(
            SectionBlock(
                text=_md(
                    ":warning: The key works but lacks "
                    + escape(", ".join(result.missing))
                    + ". Tasks that need these will fail: regenerate the key with them ticked."
                )
            )
        )
    for warning in result.warnings[:5]:
        blocks.append(SectionBlock(text=_md(f":information_source: {escape(warning)}")))
    if rotating is not None and rotating.id != info.id:
        blocks.append(
            SectionBlock(
                text=_md(
                    ":warning: This key is for a different store than the one you were rotating "
                    f"(*{escape(row_label(rotating))}*), so it was stored beside it. The old key "
                    "and its reminders are unchanged: delete it from `/getkey list` if nobody "
                    "uses it any more."
                )
            )
        )
    note = "Stored encrypted; Slack only ever shows its last 4 characters. "
    if replaced:
        note = "This replaced the key stored before for this store. " + note
    note += "`/getkey list` shows your keys."
    blocks.append(ContextBlock(elements=[_md(note)]))
    view = View(
        type="modal",
        callback_id=Ids.FORM,
        title=_plain("Key verified", TITLE_TEXT),
        close=_plain("Done", TITLE_TEXT),
        blocks=blocks,
    )
    return view.to_dict()


def save_failed_view(flow: Flow) -> dict[str, Any]:
    view = View(
        type="modal",
        title=_title(flow),
        close=_plain("Close", TITLE_TEXT),
        blocks=[
            SectionBlock(
                text=_md(
                    f":warning: The key works with {flow.name}, but getkey could not store it "
                    "just now, so nothing was saved. Please try again in a minute; if it keeps "
                    "happening, tell whoever runs getkey."
                )
            )
        ],
    )
    return view.to_dict()


def confirm_delete_view(credential_id: str, label: str, channel: str | None) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=Ids.CONFIRM_DELETE,
        title=_plain("Delete this key?", TITLE_TEXT),
        submit=_plain("Delete", TITLE_TEXT),
        close=_plain("Keep it", TITLE_TEXT),
        private_metadata=json.dumps({"credential": credential_id, "channel": channel}),
        blocks=[
            SectionBlock(
                text=_md(
                    f"Delete *{escape(label)}*?\ngetkey forgets it and stops its reminders. "
                    "The key itself keeps working on the platform until you revoke it there."
                )
            )
        ],
    )
    return view.to_dict()


def done_view(title: str, text: str) -> dict[str, Any]:
    view = View(
        type="modal",
        title=_plain(title, TITLE_TEXT),
        close=_plain("Done", TITLE_TEXT),
        blocks=[SectionBlock(text=_md(text))],
    )
    return view.to_dict()


# -- validation of what slack_sdk does not check ----------------------------------------
class BlockKitError(ValueError):
    pass


def _as_dict(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _element_problems(where: str, element: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    kind = element.get("type")
    if kind == "plain_text_input":
        max_length = element.get("max_length")
        if max_length is not None and not 1 <= max_length <= INPUT_MAX:
            problems.append(f"{where}: plain_text_input max_length must be 1–{INPUT_MAX}")
        min_length = element.get("min_length")
        if min_length is not None and not 0 <= min_length <= INPUT_MAX:
            problems.append(f"{where}: plain_text_input min_length must be 0–{INPUT_MAX}")
        initial = element.get("initial_value")
        if initial is not None and len(initial) > (max_length or INPUT_MAX):
            problems.append(f"{where}: initial_value longer than max_length")
    if kind == "static_select":
        options = element.get("options") or []
        if not 1 <= len(options) <= SELECT_OPTIONS:
            problems.append(f"{where}: static_select needs 1–{SELECT_OPTIONS} options")
        for opt in options:
            if len(opt.get("text", {}).get("text", "")) > OPTION_TEXT:
                problems.append(f"{where}: option text over {OPTION_TEXT}")
            if len(opt.get("value", "")) > OPTION_VALUE:
                problems.append(f"{where}: option value over {OPTION_VALUE}")
    if kind == "button":
        if len(element.get("text", {}).get("text", "")) > BUTTON_TEXT:
            problems.append(f"{where}: button text over {BUTTON_TEXT}")
        if len(element.get("value", "")) > BUTTON_VALUE:
            problems.append(f"{where}: button value over {BUTTON_VALUE}")
    action_id = element.get("action_id")
    if action_id is not None and len(action_id) > ID_LENGTH:
        problems.append(f"{where}: action_id over {ID_LENGTH}")
    return problems


def block_problems(blocks: Sequence[Any], *, surface: str = "message") -> list[str]:
    """Everything wrong with a list of blocks for `surface` ("message", "modal", "home")."""
    problems: list[str] = []
    limit = MESSAGE_BLOCKS if surface == "message" else VIEW_BLOCKS
    if len(blocks) > limit:
        problems.append(f"{len(blocks)} blocks; a {surface} allows {limit}")
    seen_ids: set[str] = set()
    for i, raw in enumerate(blocks):
        where = f"block {i}"
        try:
            parsed = Block.parse(_as_dict(raw))
            if parsed is None:
                problems.append(f"{where}: unknown block type")
                continue
            block = parsed.to_dict()  # runs slack_sdk's own validators
        except Exception as exc:
            problems.append(f"{where}: {exc}")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if block_id in seen_ids:
                problems.append(f"{where}: duplicate block_id {block_id!r}")
            seen_ids.add(block_id)
            if len(block_id) > ID_LENGTH:
                problems.append(f"{where}: block_id over {ID_LENGTH}")
        kind = block.get("type")
        if kind == "input" and surface == "message":
            problems.append(f"{where}: input blocks belong in modals")
        if kind == "section":
            text = (block.get("text") or {}).get("text", "")
            if len(text) > SECTION_TEXT:
                problems.append(f"{where}: section text over {SECTION_TEXT}")
            for f in block.get("fields") or []:
                if len(f.get("text", "")) > FIELD_TEXT:
                    problems.append(f"{where}: section field over {FIELD_TEXT}")
        if kind == "header" and len(block.get("text", {}).get("text", "")) > HEADER_TEXT:
            problems.append(f"{where}: header over {HEADER_TEXT}")
        elements: list[Mapping[str, Any]] = []
        if kind == "actions":
            elements = list(block.get("elements") or [])
        if block.get("accessory"):
            elements.append(block["accessory"])
        if kind == "input" and block.get("element"):
            elements.append(block["element"])
        action_ids = [e.get("action_id") for e in elements if e.get("action_id")]
        if len(action_ids) != len(set(action_ids)):
            problems.append(f"{where}: duplicate action_id in one block")
        for element in elements:
            problems += _element_problems(where, element)
    return problems


def validate_blocks(blocks: Sequence[Any], *, surface: str = "message") -> list[dict[str, Any]]:
    problems = block_problems(blocks, surface=surface)
    if problems:
        raise BlockKitError("; ".join(problems))
    return [_as_dict(b) for b in blocks]


def validate_view(view: Any) -> dict[str, Any]:
    """Parse with slack_sdk (title/submit/close/metadata limits) and check the rest."""
    data = _as_dict(view)
    problems: list[str] = []
    try:
        parsed = View(**data).to_dict()
    except Exception as exc:
        raise BlockKitError(f"slack_sdk rejects the view: {exc}") from None
    surface = parsed.get("type", "modal")
    blocks = parsed.get("blocks") or []
    problems += block_problems(blocks, surface=surface)
    has_input = any(b.get("type") == "input" for b in blocks)
    if surface == "modal" and has_input and not parsed.get("submit"):
        problems.append("a modal with input blocks needs a submit button")
    if len(parsed.get("private_metadata") or "") > METADATA:
        problems.append(f"private_metadata over {METADATA}")
    size = len(json.dumps(parsed).encode())
    if size > VIEW_BYTES:
        problems.append(f"view is {size} bytes; the limit is {VIEW_BYTES}")
    if problems:
        raise BlockKitError("; ".join(problems))
    return parsed
