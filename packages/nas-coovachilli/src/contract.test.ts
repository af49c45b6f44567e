import { nasVendorContract } from '@rgz/core/testing';
import { createChilliVendor } from './dialect.js';

nasVendorContract('coovachilli', () => createChilliVendor());
