"""Code the apps share and that knows no app: the API toolkit (DRF pieces), server-side charts,
streamed CSV, form pieces and validators."""
