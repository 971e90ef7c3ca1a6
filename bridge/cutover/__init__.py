"""The cutover: where each workflow's stage is true (ledger, truth), and the switch between stages."""
