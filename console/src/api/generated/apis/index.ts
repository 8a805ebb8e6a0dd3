/* tslint:disable */
/* eslint-disable */
export * from './AccessApi';
export * from './AccountsApi';
export * from './BrandManagementApi';
export * from './BrandsApi';
export * from './CaseworkApi';
export * from './CooperationApi';
export * from './EventsApi';
export * from './ExportsApi';
export * from './ImportsApi';
export * from './JobDemandsApi';
export * from './LiveFeedApi';
export * from './MonitoringApi';
export * from './OperationsApi';
export * from './OrganizationsAndSubsidiesApi';
export * from './OrganizedOutputApi';
export * from './StatisticsApi';
export * from './WorkersApi';
