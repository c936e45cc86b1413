export { sampleDpmSolver2, solverSteps, type SolverStep } from './dpm-solver-2.js';
