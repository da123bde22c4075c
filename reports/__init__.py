"""The spend pages (`/spend/`): a person's month, a project's month, the staff cost review and
its CSV tables.

They read the ledger together with what it paid for (generations, uses of the prompt enhancer,
elements created on Kling), so they sit above all of those, while `spend` itself (prices, the
ledger, budgets, the hold, charge and release) sits below them. The URL namespace stays `spend`
and the templates stay in templates/spend/.
"""
