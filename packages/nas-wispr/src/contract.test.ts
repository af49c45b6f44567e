import { nasVendorContract } from '@rgz/core/testing';
import { createWisprVendor } from './dialect.js';

nasVendorContract('wispr', () => createWisprVendor());
nasVendorContract('wispr (disconnect only)', () => createWisprVendor({ id: 'wispr-legacy', policyChange: 'disconnect' }));
