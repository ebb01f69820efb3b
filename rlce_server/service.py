"""The gRPC service's full name, read from the contract itself (the proto).

The server (health, reflection, metrics) and the client (health checks of
balanced channels) both need it; neither spells it.
"""

from ._proto.rlce.v1 import scorer_pb2 as _pb

SERVICE_NAME: str = _pb.DESCRIPTOR.services_by_name["Scorer"].full_name
