"""The terminal side of getkey: `commands` (platforms, guide, verify), `render` (text layout and
the shared failure wording), `prompt` (asking for fields, secrets without echo)."""
