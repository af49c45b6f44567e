import { logParserContract } from '@rgz/core/testing';
import { samples } from './fixtures/samples.js';
import { createCambiumParser } from './parser.js';

logParserContract('cambium-epmp', () => ({ parser: createCambiumParser(), samples }));
