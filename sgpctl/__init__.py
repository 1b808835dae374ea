"""sgpctl: administer TKE SecurityGroupPolicy (per-Pod security groups over Trunking ENI)."""

__version__ = "0.1.0"
