//! Calico cluster simulator over Reflector engines.
