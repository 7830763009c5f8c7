//! Unit tests of the resource as a whole: expand/flatten round trips, validation, plan.
