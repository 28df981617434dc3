//! TODO-module oci (being written)
