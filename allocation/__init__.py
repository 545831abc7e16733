"""The allocation core (pure): sourcing one order (`allocation.sourcing.source_order` over the
values of `allocation.model`), its cost model, and planning (`allocation.planning`).

Nothing is imported here, so that `import allocation.model` stays light (no OR-Tools)."""
