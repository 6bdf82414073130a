//! Sentences: splitting and normalizing (to be written).
