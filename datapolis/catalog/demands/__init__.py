"""Supply–demand docking (供需对接): departments register data demands, the catalog proposes
supplying entries, the bureau or the provider confirms a match, and the demand is tracked to
fulfilment. models → service (states, history) → matching (candidates) → sheet (供需清单).
"""
