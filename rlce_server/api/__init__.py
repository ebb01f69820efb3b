"""The gRPC face: servicer, proto <-> domain conversion with validation."""
