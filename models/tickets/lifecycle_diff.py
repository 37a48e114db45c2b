"""What changed between two declarations of a ticket type, said for an admin about to deploy."""

from models.tickets.lifecycle import LifecycleSpec


def changes(old: LifecycleSpec | None, new: LifecycleSpec) -> list[str]:
    """Lines such as "+ step review", "- step inspect", "~ step handle", "~ form callback"."""
    if old is None:
        return ["+ first version (none stored yet)"]
    if old.version == new.version:
        return []
    before = {s.key: s.model_dump(mode="json") for s in old.steps}
    after = {s.key: s.model_dump(mode="json") for s in new.steps}
    lines = [f"+ step {key}" for key in after if key not in before]
    lines += [f"- step {key}" for key in before if key not in after]
    lines += [f"~ step {key}" for key in after if key in before and before[key] != after[key]]
    if [s.key for s in old.steps if s.key in after] != [s.key for s in new.steps if s.key in before]:
        lines.append("~ step order")
    for name in sorted(set(old.forms) | set(new.forms)):
        was, now = old.forms.get(name), new.forms.get(name)
        if was != now:
            lines.append(f"{'+' if was is None else '-' if now is None else '~'} form {name}")
    top = ("title", "notify")
    if any(getattr(old, f) != getattr(new, f) for f in top):
        lines.append("~ page title or start notices")
    return lines or ["~ text only (comments, layout)"]
