//! Downloads: URLs fetched in parallel (to be written).
