"""Tests of the embedded Stargate-compatible server (localdev.stargate), over real HTTP."""
