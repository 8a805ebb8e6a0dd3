/* tslint:disable */
/* eslint-disable */
export * from './AccessApi';
export * from './AccountsApi';
export * from './BrandsApi';
export * from './CooperationApi';
export * from './EventsApi';
export * from './ExportsApi';
export * from './ImportsApi';
export * from './LiveFeedApi';
export * from './OperationsApi';
export * from './OrganizedOutputApi';
export * from './StatisticsApi';
export * from './WorkersApi';
