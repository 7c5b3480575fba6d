print("riftgate-hub: not built yet")
