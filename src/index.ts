import { createApp } from './app';

export { StudyCoordinator } from './coordinator/study-coordinator';

export default createApp();
