"""The storage adapter contract suite (see ``test_adapter_contract.py`` and ``harness.py``)."""
