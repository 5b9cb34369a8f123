import {
  ActivityIcon,
  BarChart3Icon,
  CodeXmlIcon,
  LayersIcon,
  LayoutDashboardIcon,
  ListIcon,
  type LucideIcon,
} from "lucide-react";

export interface NavItem {
  to: "/" | "/jobs" | "/workers/new" | "/metrics" | "/queues";
  label: string;
  icon: LucideIcon;
  exact?: boolean;
}

export const NAV: NavItem[] = [
  { to: "/", label: "Dashboard", icon: LayoutDashboardIcon, exact: true },
  { to: "/jobs", label: "Jobs", icon: ListIcon },
  { to: "/workers/new", label: "New worker", icon: CodeXmlIcon },
  { to: "/metrics", label: "Metrics", icon: BarChart3Icon },
  { to: "/queues", label: "Queues", icon: LayersIcon },
];

export const BrandIcon = ActivityIcon;
