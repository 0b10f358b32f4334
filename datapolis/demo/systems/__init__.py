"""The department business systems of the demo city, one module each.

Every module exposes `TABLES` (its table specifications) and `build(ctx) -> Output`. The
generated tables carry hidden `_person` / `_enterprise` columns (index of the true person or
enterprise, -1 for none) from which the linkage truth is written; they never reach a database.
"""

from __future__ import annotations

from datapolis.demo.systems import bdc, gaj, jy, mzj, scjg, swjt, wgzx
from datapolis.demo.systems.base import Context, Output, System

__all__ = ["Context", "Output", "System", "all_systems"]


def all_systems() -> dict[str, System]:
    systems = [
        System("gaj_hjxt", "户籍管理系统", "371300_gaj", gaj.TABLES, gaj.build),
        System("scjg_qydj", "企业登记注册系统", "371300_scjgj", scjg.TABLES, scjg.build),
        System("jy_xlxx", "学历学位信息系统", "371300_jyj", jy.TABLES, jy.build),
        System("swjt_yxxt", "供水营销管理系统", "371300_swjt", swjt.TABLES, swjt.build),
        System("bdc_djxt", "不动产登记系统", "371300_bdcdj", bdc.TABLES, bdc.build),
        System("mzj_dibao", "最低生活保障（文件报送）", "371300_mzj", mzj.TABLES, mzj.build,
               files_only=True),
        System("wgzx_sjxt", "网格化事件管理系统", "371300_wgzx", wgzx.TABLES, wgzx.build),
    ]
    return {s.name: s for s in systems}
