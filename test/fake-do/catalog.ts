/**
 * The fixed parts of the fake account: regions, sizes with DigitalOcean's list prices (Basic droplets,
 * 2026), and the stock distribution images. Prices are what `GET /v2/sizes` answered for these slugs.
 */
export interface SizeInfo {
  slug: string;
  memory: number;
  vcpus: number;
  disk: number;
  transfer: number;
  price_monthly: number;
  price_hourly: number;
  description: string;
}

export interface RegionInfo {
  slug: string;
  name: string;
}

export const REGIONS: readonly RegionInfo[] = [
  { slug: 'nyc1', name: 'New York 1' },
  { slug: 'nyc3', name: 'New York 3' },
  { slug: 'sfo3', name: 'San Francisco 3' },
  { slug: 'ams3', name: 'Amsterdam 3' },
  { slug: 'fra1', name: 'Frankfurt 1' },
  { slug: 'lon1', name: 'London 1' },
  { slug: 'tor1', name: 'Toronto 1' },
  { slug: 'sgp1', name: 'Singapore 1' },
  { slug: 'blr1', name: 'Bangalore 1' },
  { slug: 'syd1', name: 'Sydney 1' },
];

export const DEFAULT_REGION = 'nyc3';

export const SIZES: readonly SizeInfo[] = [
  { slug: 's-1vcpu-512mb-10gb', memory: 512, vcpus: 1, disk: 10, transfer: 0.5, price_monthly: 4, price_hourly: 0.00595, description: 'Basic' },
  { slug: 's-1vcpu-1gb', memory: 1024, vcpus: 1, disk: 25, transfer: 1, price_monthly: 6, price_hourly: 0.00893, description: 'Basic' },
  { slug: 's-1vcpu-2gb', memory: 2048, vcpus: 1, disk: 50, transfer: 2, price_monthly: 12, price_hourly: 0.01786, description: 'Basic' },
  { slug: 's-2vcpu-2gb', memory: 2048, vcpus: 2, disk: 60, transfer: 3, price_monthly: 18, price_hourly: 0.02679, description: 'Basic' },
  { slug: 's-2vcpu-4gb', memory: 4096, vcpus: 2, disk: 80, transfer: 4, price_monthly: 24, price_hourly: 0.03571, description: 'Basic' },
  { slug: 's-4vcpu-8gb', memory: 8192, vcpus: 4, disk: 160, transfer: 5, price_monthly: 48, price_hourly: 0.07143, description: 'Basic' },
  { slug: 's-8vcpu-16gb', memory: 16384, vcpus: 8, disk: 320, transfer: 6, price_monthly: 96, price_hourly: 0.14286, description: 'Basic' },
  { slug: 'c-2', memory: 4096, vcpus: 2, disk: 25, transfer: 4, price_monthly: 42, price_hourly: 0.0625, description: 'CPU-Optimized' },
  { slug: 'g-2vcpu-8gb', memory: 8192, vcpus: 2, disk: 25, transfer: 4, price_monthly: 63, price_hourly: 0.09375, description: 'General Purpose' },
  { slug: 'm-2vcpu-16gb', memory: 16384, vcpus: 2, disk: 50, transfer: 4, price_monthly: 84, price_hourly: 0.125, description: 'Memory-Optimized' },
];

/** The droplet limit of a new account; creating past it is refused with 422, as the real API does. */
export const DROPLET_LIMIT = 25;

export interface DistributionImage {
  id: number;
  slug: string;
  name: string;
  distribution: 'Debian' | 'Ubuntu';
  createdAt: string;
  minDiskSize: number;
  sizeGigabytes: number;
}

export const DISTRIBUTIONS: readonly DistributionImage[] = [
  { id: 196_000_001, slug: 'debian-13-x64', name: '13 x64', distribution: 'Debian', createdAt: '2025-08-12T10:00:00Z', minDiskSize: 10, sizeGigabytes: 0.94 },
  { id: 196_000_002, slug: 'debian-12-x64', name: '12 x64', distribution: 'Debian', createdAt: '2023-06-12T10:00:00Z', minDiskSize: 10, sizeGigabytes: 0.91 },
  { id: 196_000_003, slug: 'ubuntu-24-04-x64', name: '24.04 (LTS) x64', distribution: 'Ubuntu', createdAt: '2024-04-25T10:00:00Z', minDiskSize: 10, sizeGigabytes: 1.32 },
];

export const findSize = (slug: string): SizeInfo | undefined => SIZES.find((s) => s.slug === slug);
export const findRegion = (slug: string): RegionInfo | undefined => REGIONS.find((r) => r.slug === slug);
