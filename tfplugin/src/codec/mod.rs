//! DynamicValue codecs.
