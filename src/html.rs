//! HTML to the text a reader sees (to be written).
