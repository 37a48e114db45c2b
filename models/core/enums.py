"""The closed vocabularies of the centre, each with its Chinese label."""

from enum import StrEnum


class Labelled(StrEnum):
    """A string enum whose members carry the label users see."""

    def __new__(cls, value: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


class TicketType(Labelled):
    consultation = "consultation", "咨询查询"
    fault_repair = "fault_repair", "故障报修"
    complaint = "complaint", "投诉"
    report = "report", "举报"
    opinion = "opinion", "意见"
    suggestion = "suggestion", "建议"
    business = "business", "用电业务"


class Channel(Labelled):
    phone = "phone", "电话"
    web = "web", "网站"
    app = "app", "手机应用"
    wechat = "wechat", "微信"
    other = "other", "其他"


class TicketStatus(Labelled):
    received = "received", "已受理"
    in_progress = "in_progress", "处理中"
    awaiting_callback = "awaiting_callback", "待回访"
    closed = "closed", "已办结"


OPEN_STATUSES = (TicketStatus.received, TicketStatus.in_progress, TicketStatus.awaiting_callback)


class Urgency(Labelled):
    normal = "normal", "一般"
    urgent = "urgent", "紧急"
    critical = "critical", "特急"


class AreaKind(Labelled):
    urban = "urban", "城市"
    rural = "rural", "农村"
    remote = "remote", "偏远地区"


class RegionLevel(Labelled):
    province = "province", "省"
    city = "city", "市"
    county = "county", "县/区"


class DepartmentKind(Labelled):
    service_centre = "service_centre", "客户服务中心"
    repair = "repair", "抢修班组"
    marketing = "marketing", "营销部"
    metering = "metering", "计量中心"
    discipline = "discipline", "纪检监察"
    quality = "quality", "质量管理部"  # its staff inspect (质检) handled tickets


class StaffRole(Labelled):
    agent = "agent", "坐席"
    handler = "handler", "部门处理人"
    head = "head", "部门负责人"
    supervisor = "supervisor", "中心值班长"
    admin = "admin", "管理员"
    inspector = "inspector", "质检员"


class StepStatus(Labelled):
    open = "open", "待处理"
    done = "done", "已完成"
    returned = "returned", "已退单"  # done, and sent back to the centre for re-dispatch


class SpanUnit(Labelled):
    minutes = "minutes", "分钟"
    hours = "hours", "小时"
    working_days = "working_days", "工作日"
