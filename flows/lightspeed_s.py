"""Lightspeed S-Series (formerly ShopKeep): no API key a store owner can create, so the guide
is the whole flow. Data leaves as spreadsheet exports from BackOffice."""

from __future__ import annotations

from flows.base import Flow, Step, Trouble


class LightspeedSFlow(Flow):
    id = "lightspeed-s"
    name = "Lightspeed S-Series"
    aliases = ("lightspeed s-series", "s-series", "shopkeep", "lightspeed s series")
    summary = (
        "There is no API key to get: S-Series data moves as spreadsheet exports from "
        "BackOffice. Here is what to export."
    )
    family = "lightspeed"
    edition = "S-Series"
    recognise = (
        "Formerly ShopKeep: the back office is called BackOffice, and it has no API keys (data "
        "leaves as spreadsheet exports)."
    )
    verifiable = False
    # Nothing is stored, so nothing rotates; the base class requires a positive period.
    rotation_days = 365
    revoke_steps = (
        Step(
            "Nothing to revoke on S-Series",
            "No key was created: data left as spreadsheet files. When the job is done, ask "
            "whoever received the files to delete them, and delete your own copies too.",
        ),
    )
    steps = (
        Step(
            "Why there is no key",
            "S-Series does not let store owners create API keys or personal tokens, so a "
            "migration or integration cannot connect to it directly. Instead you export your "
            "data as spreadsheets and hand those over.",
        ),
        Step(
            "Sign in to BackOffice as the Business Owner",
            "Use the email the store was created with: only that login reaches every export. "
            "With several linked locations, switch to each location and repeat the exports.",
        ),
        Step(
            "Export your items",
            "Use Bulk Item Management: start a new job to modify items and download the "
            "spreadsheet of your current inventory. Keep the file as it is (CSV).",
        ),
        Step(
            "Export your customers",
            "Go to Bulk Manage Customers (under Customers or Marketing, depending on your "
            "BackOffice version), start a new job, choose *Modify Customers* and download the "
            "customer list it offers.",
        ),
        Step(
            "Download the history you need",
            "Sales history cannot be imported into most systems, so download the reports you "
            "want to keep (sales, transactions, tax) as spreadsheets for your records.",
        ),
        Step(
            "Share the files safely",
            "Send the files to whoever runs the migration through your usual file sharing, "
            "not in a public channel: they hold customer details.",
        ),
    )
    troubleshooting = (
        Trouble(
            "The export or bulk management option is missing",
            "Only the Business Owner login sees every option. Sign in with the email the store "
            "was created with.",
        ),
        Trouble(
            "Items or customers from one location are missing",
            "Each linked location has its own data. Switch location in BackOffice and export "
            "again for each one.",
        ),
        Trouble(
            "Someone asks you for an S-Series API key",
            "There is none to give. Send them the exported spreadsheets instead, or ask "
            "Lightspeed support about moving to a series with API access.",
        ),
    )


FLOW = LightspeedSFlow()
