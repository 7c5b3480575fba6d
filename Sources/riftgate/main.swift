print("riftgate: not built yet")
