import { logParserContract } from '@rgz/core/testing';
import { samples } from './fixtures/samples.js';
import { createAirosParser } from './parser.js';

logParserContract('ubiquiti-airos', () => ({ parser: createAirosParser(), samples }));
