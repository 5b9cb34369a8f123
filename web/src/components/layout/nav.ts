import {
  ActivityIcon,
  BarChart3Icon,
  CalendarClockIcon,
  CodeXmlIcon,
  LayersIcon,
  LayoutDashboardIcon,
  ListIcon,
  type LucideIcon,
  ZapIcon,
} from "lucide-react";

export interface NavItem {
  to: "/" | "/jobs" | "/workers" | "/schedules" | "/events" | "/metrics" | "/queues";
  label: string;
  icon: LucideIcon;
  exact?: boolean;
}

// "Workers" holds the editor (/workers/new) and every saved worker's page.
export const NAV: NavItem[] = [
  { to: "/", label: "Dashboard", icon: LayoutDashboardIcon, exact: true },
  { to: "/jobs", label: "Jobs", icon: ListIcon },
  { to: "/workers", label: "Workers", icon: CodeXmlIcon },
  { to: "/schedules", label: "Schedules", icon: CalendarClockIcon },
  { to: "/events", label: "Events", icon: ZapIcon },
  { to: "/metrics", label: "Metrics", icon: BarChart3Icon },
  { to: "/queues", label: "Queues", icon: LayersIcon },
];

export const BrandIcon = ActivityIcon;
